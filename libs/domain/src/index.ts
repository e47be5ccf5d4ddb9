export const DOMAIN_PROBE = 'ok';
