/**
 * Playwright configuration for the Binder simulation (.ci/binder_build.py): no server of its own; the test
 * drives the `jupyter lab` that the simulation started as Binder would, at BINDER_LAB_URL.
 */
module.exports = {
  testDir: 'binder',
  timeout: 10 * 60 * 1000,
  workers: 1,
  reporter: [['list']],
  use: {
    actionTimeout: 30 * 1000,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium' },
    video: 'off',
    trace: 'off'
  }
};
