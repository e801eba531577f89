// Errors as a person reads them: a plain sentence first, the server's own message kept behind
// a "Details" disclosure (registries answer in their own words: "GET https://...: 401
// UNAUTHORIZED ..."). explain() never throws and always returns a sentence.

import { h } from './dom.js';

// The first rule whose pattern matches the message gives the sentence.
const RULES = [
  [/Cannot reach wharfd|connection to wharfd/i,
    'wharfd cannot be reached. Check that the server is running.'],
  [/\b401\b|unauthori[sz]ed|authentication required|denied|credentials/i,
    'The registry refused access. The image may be private: check the registry’s credentials.'],
  [/manifest unknown|MANIFEST_UNKNOWN|tag .*not found|unknown tag/i,
    'The registry does not have this tag.'],
  [/\b404\b|not found|NAME_UNKNOWN|repository .*unknown/i,
    'The registry does not have this image.'],
  [/certificate|x509|\bTLS\b|\bSSL\b/i,
    'The registry’s certificate is not trusted. Add its CA or mark it insecure in Settings.'],
  [/timed? ?out|deadline|too slow|stalled/i, 'The registry did not answer in time.'],
  [/resolve|refused|unreachable|connect|network|reset by peer/i,
    'The registry could not be reached.'],
  [/\b429\b|too many requests|rate limit/i,
    'The registry is limiting requests. Try again later.'],
  [/digest mismatch|unpacks to|diff_id|corrupt/i,
    'The downloaded data did not match the image’s digests, so nothing was kept.'],
  [/no space|disk full|ENOSPC/i, 'The server’s disk is full.'],
  [/platform/i, 'The image has no build for this server’s platform.'],
  [/\b5\d\d\b|bad gateway|unavailable/i, 'The registry had a problem answering.'],
];

export function explain(message, fallback = 'Something went wrong.') {
  const text = String(message || '');
  for (const [pattern, sentence] of RULES) {
    if (pattern.test(text)) return sentence;
  }
  return fallback;
}

// The sentence, then the server's message behind "Details" (the message itself when no rule
// knows it better).
export function errorBlock(message, { fallback, cls = '' } = {}) {
  const raw = String(message || '');
  const lead = explain(raw, fallback);
  return h('div', { class: `error-block ${cls}`.trim() },
    h('p', { class: 'job-error-lead' }, lead),
    raw && raw !== lead
      ? h('details', { class: 'error-detail' }, h('summary', {}, 'Details'),
          h('p', { class: 'error-raw' }, raw))
      : null);
}
