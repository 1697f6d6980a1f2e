/** Reported by GET /v2; kept in step with package.json by a test. */
export const MODELPLANE_VERSION = '0.1.0';
