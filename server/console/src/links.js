// Links in message text (R1): http, https and mailto addresses become
// anchors that open in a new tab, without the page's referrer or any hold on
// it; everything else stays plain text. Nodes are built with textContent,
// never from markup.

// A scheme, then (for http and https) "//" and a host: "http:///x" is text.
const CANDIDATE = /\b(?:https?:\/\/(?=[^\s<>"/])|mailto:)[^\s<>"]+/gi;
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '*', '_']);
const CLOSERS = { ')': '(', ']': '[', '}': '{' };
const SCHEMES = new Set(['http:', 'https:', 'mailto:']);

const count = (s, c) => s.split(c).length - 1;

/**
 * trimLink drops what ends a sentence rather than the address: trailing
 * punctuation, and a closing bracket the address did not open
 * ("(see https://host/a_(b))." keeps one ")").
 */
export function trimLink(raw) {
  let s = raw;
  for (;;) {
    const last = s.at(-1);
    if (TRAILING.has(last)) s = s.slice(0, -1);
    else if (CLOSERS[last] && count(s, last) > count(s, CLOSERS[last])) s = s.slice(0, -1);
    else return s;
  }
}

/** safeHref returns the address to link to, or '' for anything but a well-formed http, https or mailto URL. */
export function safeHref(raw) {
  let u;
  try {
    u = new URL(raw);
  } catch {
    return '';
  }
  if (!SCHEMES.has(u.protocol)) return '';
  if (u.protocol === 'mailto:' ? !u.pathname.includes('@') : !u.hostname) return '';
  return u.href;
}

/** link builds one anchor for a checked address. */
export function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.target = '_blank';
  a.rel = 'noopener noreferrer nofollow';
  return a;
}

/**
 * linkify splits text into text nodes and links and returns them in order,
 * ready to append. The text itself is never parsed as HTML.
 */
export function linkify(text) {
  const s = String(text ?? '');
  const out = [];
  let last = 0;
  for (const m of s.matchAll(CANDIDATE)) {
    const raw = trimLink(m[0]);
    const href = raw && safeHref(raw);
    if (!href) continue;
    if (m.index > last) out.push(document.createTextNode(s.slice(last, m.index)));
    out.push(link(href, raw));
    last = m.index + raw.length;
  }
  if (last < s.length || !out.length) out.push(document.createTextNode(s.slice(last)));
  return out;
}
