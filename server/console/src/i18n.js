// The console's strings and the locale-aware formatting of times. The
// strings come from Parley's message catalogs, locale/<lang>.json, which the
// server shares: English is bundled, as it is also the fallback; another
// language is its own file, loaded before the first render. The language
// follows the browser: navigator.language starting with "de" picks German,
// anything else English.

import en from '../../../locale/en.json';

/** The console's language: "de" or "en". */
export const lang = pickLanguage(globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en']);

function pickLanguage(prefs) {
  const first = String(prefs[0] || 'en').toLowerCase();
  return first.startsWith('de') ? 'de' : 'en';
}

// Each language but English, as a file of its own that only its readers load.
const catalogs = {
  de: () => import('../../../locale/de.json'),
};

// A catalog that cannot load leaves the console in English rather than broken.
const dict = lang in catalogs ? await catalogs[lang]().then((m) => m.default, () => en) : en;

const fmtInteger = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });

/** fmtNumber writes a count the way the console's language does (1,234 / 1.234). */
export const fmtNumber = (n) => fmtInteger.format(n);

/**
 * t returns the string for key in the console's language, with each {name}
 * placeholder replaced by vars.name; a number is written for the language
 * (fmtNumber), except an id ({id}, {appId}). An unknown key falls back to
 * English, then to the key itself, so a missing translation never shows as
 * blank.
 */
export function t(key, vars) {
  let s = dict[key] ?? en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? placeholderText(k, vars[k]) : m));
  return s;
}

const placeholderText = (k, v) => (typeof v === 'number' && !/id$/i.test(k) ? fmtNumber(v) : String(v));

/**
 * visitorName is what the console calls contact id named name: the name the
 * server gives, unless it is the server's fallback for a contact without name
 * or email, "Visitor #id" (in English, as the API has one language), which
 * the console says in its own language. Without a name at all it says
 * "Visitor".
 */
export function visitorName(name, id) {
  if (id && (!name || name === `Visitor #${id}`)) return t('contact.visitorN', { id });
  return name || t('contact.unknown');
}

/** contactName names thread th's contact (see visitorName). */
export const contactName = (th) => visitorName(th?.contactName, th?.associatedContactId);

const unit = (u) => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'narrow' });
const fmtMinute = unit('minute');
const fmtHour = unit('hour');
const fmtDay = unit('day');
const fmtRel = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
const fmtTime = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
const fmtDayMonth = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' });
const fmtDate = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', year: 'numeric' });
const fmtFull = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' });
const fmtDayMonthTime = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

function toDate(v) {
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * ago formats a past time compactly for lists: "now", "5m", "3h", "2d", then a
 * date. An invalid time gives "".
 */
export function ago(v, now = Date.now()) {
  const d = toDate(v);
  if (!d) return '';
  const s = Math.max(0, (now - d.getTime()) / 1000);
  if (s < 60) return fmtRel.format(0, 'second');
  if (s < 3600) return fmtMinute.format(Math.floor(s / 60));
  if (s < 86400) return fmtHour.format(Math.floor(s / 3600));
  if (s < 7 * 86400) return fmtDay.format(Math.floor(s / 86400));
  return d.getFullYear() === new Date(now).getFullYear() ? fmtDayMonth.format(d) : fmtDate.format(d);
}

/** clock formats a message time: the time of day today, else date and time. */
export function clock(v, now = Date.now()) {
  const d = toDate(v);
  if (!d) return '';
  return new Date(now).toDateString() === d.toDateString() ? fmtTime.format(d) : fmtDayMonthTime.format(d);
}

/** fullDate formats a time in full, for tooltips. */
export function fullDate(v) {
  const d = toDate(v);
  return d ? fmtFull.format(d) : '';
}
