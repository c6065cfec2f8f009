// Every command Flashcode contributes (package.json declares the same; a unit test holds them
// together) and the context keys its menus read.

export const COMMANDS = {
  toggleCompletions: 'flashcode.toggleCompletions',
  toggleLanguageCompletions: 'flashcode.toggleLanguageCompletions',
  showLog: 'flashcode.showLog',
  explain: 'flashcode.explain',
  refactor: 'flashcode.refactor',
  cancelTask: 'flashcode.cancelTask',
  applyRefactor: 'flashcode.applyRefactor',
  discardRefactor: 'flashcode.discardRefactor',
  setCloudApiKey: 'flashcode.setCloudApiKey',
  clearCloudApiKey: 'flashcode.clearCloudApiKey',
  resetCloudConsent: 'flashcode.resetCloudConsent',
  chooseModel: 'flashcode.chooseModel',
  removeModel: 'flashcode.removeModel',
  revealModelFolder: 'flashcode.revealModelFolder',
  statusMenu: 'flashcode.statusMenu',
} as const;

export const CONTEXT_KEYS = {
  taskRunning: 'flashcode.taskRunning',
  refactorPending: 'flashcode.refactorPending',
} as const;
