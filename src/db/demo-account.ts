/** The first seeded user. */
export const DEMO_EMAIL = 'demo@tastematch.dev';
/** The demo user's password (printed by the server on an embedded first start). */
export const DEMO_PASSWORD = 'tastematch-demo';
