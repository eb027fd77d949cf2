/**
 * The frontend's version, read from package.json at bundle time so that the
 * panel can tell when the server part is a different release.
 */
declare const require: (path: string) => { version: string };

export const FRONTEND_VERSION: string = require('../package.json').version;
