/**
 * Playwright configuration for the Galata tests.
 *
 * Playwright's own browser download is blocked here, so Debian's Chromium is
 * used (override with CHROMIUM_PATH). Video and trace need Playwright's
 * ffmpeg, so they are off.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// One server root for the server and the tests, so that a test can inspect
// the promoted project on disk. Workers inherit the variable set here.
if (!process.env.JUPYTERLAB_GALATA_ROOT_DIR) {
  process.env.JUPYTERLAB_GALATA_ROOT_DIR = fs.mkdtempSync(
    path.join(os.tmpdir(), 'promote-galata-')
  );
}

module.exports = {
  ...baseConfig,
  // binder/ has its own config (binder.config.js) against a simulated Binder server.
  testDir: './tests',
  // Promote generates a project and runs its tests: allow minutes.
  timeout: 10 * 60 * 1000,
  workers: 1,
  use: {
    ...baseConfig.use,
    // Fail a missing element in seconds rather than at the test timeout.
    actionTimeout: 30 * 1000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium'
    },
    video: 'off',
    trace: 'off'
  },
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI,
    env: { ...process.env }
  }
};
