// The security headers every HTTPS answer carries, whichever load balancer adds them (the ALB's HTTPS listener,
// the HAProxy frontend behind a TLS NLB): one value, so both flavors answer alike.

/**
 * Strict-Transport-Security: a year, subdomains included. No `preload`: that asks browsers to hard-code the
 * domain, which is a decision for the domain's owner and hard to undo.
 */
export const strictTransportSecurity = "max-age=31536000; includeSubDomains";

/** X-Content-Type-Options: browsers use the Content-Type they are given, never a sniffed one. */
export const contentTypeOptions = "nosniff";
