import assert from 'node:assert/strict';
import { FfnNotices, ffnNoticeText } from '../../../src/host/ffnNotice';

const noPredictors = 'this model has no predictors.bin, so the FFN runs densely (correct, slower).';
const corrupt = 'predictors.bin is corrupt (sha256 mismatch); the FFN runs densely (correct, slower).';

describe('ffnNoticeText', () => {
  it('says which setting asked for sparse, then why it is not running', () => {
    assert.equal(ffnNoticeText(noPredictors), 'flashcode.engine.sparseFfn is on, but this model has no predictors.bin, so the FFN runs densely (correct, slower).');
  });
});

describe('FfnNotices', () => {
  // Each row is one finished load, in order: its model, its notice, and whether the warning shows.
  const cases: Array<{ name: string; loads: Array<[modelDir: string, notice: string | undefined, shown: boolean]> }> = [
    { name: 'a load without a notice shows nothing', loads: [['/m/a', undefined, false]] },
    { name: 'the first load with a notice shows it', loads: [['/m/a', noPredictors, true]] },
    { name: 'a reload with the same outcome (another setting, a crash restart) does not show it again', loads: [['/m/a', noPredictors, true], ['/m/a', noPredictors, false], ['/m/a', noPredictors, false]] },
    { name: 'a different notice for the same model shows', loads: [['/m/a', noPredictors, true], ['/m/a', corrupt, true]] },
    { name: 'another model with the same notice shows', loads: [['/m/a', noPredictors, true], ['/m/b', noPredictors, true]] },
    { name: 'after a load without a notice (sparseFfn off), the notice shows again', loads: [['/m/a', noPredictors, true], ['/m/a', undefined, false], ['/m/a', noPredictors, true]] },
    { name: 'going back to an earlier model shows its notice again', loads: [['/m/a', noPredictors, true], ['/m/b', corrupt, true], ['/m/a', noPredictors, true]] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const notices = new FfnNotices();
      c.loads.forEach(([modelDir, notice, shown], i) => {
        assert.equal(notices.afterLoad(modelDir, notice), shown ? notice : undefined, `load ${i + 1}`);
      });
    });
  }
});
