// All user-visible strings of the console, in English and German, and the
// locale-aware formatting of times. The language follows the browser:
// navigator.language starting with "de" picks German, anything else English.

const en = {
  'app.title': 'Parley',
  'app.loading': 'Loading…',
  'app.failed': 'The console could not load. Reload the page to try again.',
  'app.reload': 'Reload',

  'signin.title': 'Sign in to Parley',
  'signin.subtitle': 'Team inbox and live chat',
  'signin.email': 'Email',
  'signin.password': 'Password',
  'signin.submit': 'Sign in',
  'signin.busy': 'Signing in…',
  'signin.wrong': 'Wrong email or password.',
  'signin.missing': 'Enter your email and password.',
  'signin.failed': 'Could not sign in. Please try again.',
  'signin.expired': 'Your session has ended. Please sign in again.',

  'header.label': 'Parley',
  'header.menu': 'Views',
  'header.away': 'Away',
  'header.signOut': 'Sign out',
  'header.you': 'Signed in as {name}',

  'presence.online': 'Online',
  'presence.away': 'Away',
  'presence.offline': 'Offline',
  'presence.connecting': 'Connecting…',

  'banner.reconnecting': 'Reconnecting…',
  'banner.stopped': 'Live updates stopped. Reload the page to reconnect.',

  'nav.label': 'Inboxes and views',
  'nav.inbox': 'Inbox',
  'nav.views': 'Views',
  'nav.team': 'Team',
  'nav.teamEmpty': 'No teammates yet.',
  'view.all': 'All conversations',
  'view.mine': 'Assigned to me',
  'view.unassigned': 'Unassigned',
  'view.chat': 'Chat',
  'view.email': 'Email',

  'list.label': 'Conversations',
  'list.status': 'Status',
  'tab.open': 'Open',
  'tab.closed': 'Closed',
  'list.loading': 'Loading conversations…',
  'list.empty': 'No conversations here.',
  'list.emptyHint': 'New chats appear here as they arrive.',
  'list.more': 'Load more',
  'list.unread': 'Unread',
  'list.unassigned': 'Unassigned',
  'list.noPreview': 'No messages yet',
  'list.failed': 'Could not load conversations.',
  'list.retry': 'Try again',
  'contact.unknown': 'Visitor',

  'channel.chat': 'Chat',
  'channel.email': 'Email',
  'status.OPEN': 'Open',
  'status.CLOSED': 'Closed',

  'conv.label': 'Conversation',
  'conv.none': 'No conversation selected',
  'conv.noneHint': 'Pick one from the list. Shortcuts: j and k move, Enter or o opens, r replies, Escape leaves the reply box.',
  'conv.back': 'Back to conversations',
  'conv.close': 'Close conversation',
  'conv.reopen': 'Reopen conversation',
  'conv.assignMe': 'Assign to me',
  'conv.assignee': 'Assignee',
  'conv.unassigned': 'Unassigned',
  'conv.you': '{name} (you)',
  'conv.userAway': '{name} (away)',
  'conv.userOffline': '{name} (offline)',
  'conv.messages': 'Messages',
  'conv.loading': 'Loading messages…',
  'conv.notFound': 'This conversation could not be found.',
  'conv.failed': 'Could not load this conversation.',
  'conv.empty': 'No messages yet.',
  'conv.started': 'Started {time}',

  'msg.note': 'Internal note',
  'msg.sending': 'Sending…',
  'msg.failed': 'Not sent: {reason}',
  'msg.retry': 'Retry',
  'msg.discard': 'Discard',
  'msg.you': 'You',
  'msg.new': 'New message from {name}: {text}',
  'sys.closedBy': '{name} closed the conversation',
  'sys.closed': 'Conversation closed',
  'sys.reopenedBy': '{name} reopened the conversation',
  'sys.reopened': 'Conversation reopened',
  'sys.assignedBy': '{name} assigned the conversation to {assignee}',
  'sys.assigned': 'Assigned to {assignee}',
  'sys.unassignedBy': '{name} unassigned the conversation',
  'sys.unassigned': 'Conversation unassigned',
  'sys.someone': 'someone',

  'typing.named': '{name} is typing…',
  'typing.anon': 'typing…',

  'reply.label': 'Reply',
  'reply.placeholder': 'Reply to {name}… Enter sends, Shift+Enter adds a line',
  'reply.notePlaceholder': 'Write an internal note. Only your team sees it.',
  'reply.note': 'Internal note',
  'reply.send': 'Send',
  'reply.tooLong': 'The message is too long.',

  'err.generic': 'Something went wrong. Please try again.',
  'err.network': 'Network error. Check your connection.',
  'err.status': 'Could not change the status.',
  'err.assign': 'Could not change the assignee.',
  'err.away': 'Could not change away mode.',
  'err.signOut': 'Could not sign out.',
  'err.dismiss': 'Dismiss',

  'title.unread': '({n}) Parley',
};

const de = {
  'app.title': 'Parley',
  'app.loading': 'Wird geladen…',
  'app.failed': 'Die Konsole konnte nicht geladen werden. Laden Sie die Seite neu.',
  'app.reload': 'Neu laden',

  'signin.title': 'Bei Parley anmelden',
  'signin.subtitle': 'Team-Postfach und Live-Chat',
  'signin.email': 'E-Mail',
  'signin.password': 'Passwort',
  'signin.submit': 'Anmelden',
  'signin.busy': 'Anmeldung läuft…',
  'signin.wrong': 'E-Mail oder Passwort ist falsch.',
  'signin.missing': 'Bitte E-Mail und Passwort eingeben.',
  'signin.failed': 'Anmeldung fehlgeschlagen. Bitte erneut versuchen.',
  'signin.expired': 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.',

  'header.label': 'Parley',
  'header.menu': 'Ansichten',
  'header.away': 'Abwesend',
  'header.signOut': 'Abmelden',
  'header.you': 'Angemeldet als {name}',

  'presence.online': 'Online',
  'presence.away': 'Abwesend',
  'presence.offline': 'Offline',
  'presence.connecting': 'Verbinde…',

  'banner.reconnecting': 'Verbindung wird wiederhergestellt…',
  'banner.stopped': 'Live-Aktualisierung beendet. Laden Sie die Seite neu.',

  'nav.label': 'Postfächer und Ansichten',
  'nav.inbox': 'Postfach',
  'nav.views': 'Ansichten',
  'nav.team': 'Team',
  'nav.teamEmpty': 'Noch keine Teammitglieder.',
  'view.all': 'Alle Konversationen',
  'view.mine': 'Mir zugewiesen',
  'view.unassigned': 'Nicht zugewiesen',
  'view.chat': 'Chat',
  'view.email': 'E-Mail',

  'list.label': 'Konversationen',
  'list.status': 'Status',
  'tab.open': 'Offen',
  'tab.closed': 'Geschlossen',
  'list.loading': 'Konversationen werden geladen…',
  'list.empty': 'Hier gibt es keine Konversationen.',
  'list.emptyHint': 'Neue Chats erscheinen hier, sobald sie eintreffen.',
  'list.more': 'Mehr laden',
  'list.unread': 'Ungelesen',
  'list.unassigned': 'Nicht zugewiesen',
  'list.noPreview': 'Noch keine Nachrichten',
  'list.failed': 'Konversationen konnten nicht geladen werden.',
  'list.retry': 'Erneut versuchen',
  'contact.unknown': 'Besucher',

  'channel.chat': 'Chat',
  'channel.email': 'E-Mail',
  'status.OPEN': 'Offen',
  'status.CLOSED': 'Geschlossen',

  'conv.label': 'Konversation',
  'conv.none': 'Keine Konversation ausgewählt',
  'conv.noneHint': 'Wählen Sie eine aus der Liste. Tastenkürzel: j und k bewegen, Enter oder o öffnet, r antwortet, Escape verlässt das Antwortfeld.',
  'conv.back': 'Zurück zu den Konversationen',
  'conv.close': 'Konversation schließen',
  'conv.reopen': 'Konversation wieder öffnen',
  'conv.assignMe': 'Mir zuweisen',
  'conv.assignee': 'Zuständig',
  'conv.unassigned': 'Nicht zugewiesen',
  'conv.you': '{name} (Sie)',
  'conv.userAway': '{name} (abwesend)',
  'conv.userOffline': '{name} (offline)',
  'conv.messages': 'Nachrichten',
  'conv.loading': 'Nachrichten werden geladen…',
  'conv.notFound': 'Diese Konversation wurde nicht gefunden.',
  'conv.failed': 'Diese Konversation konnte nicht geladen werden.',
  'conv.empty': 'Noch keine Nachrichten.',
  'conv.started': 'Begonnen {time}',

  'msg.note': 'Interne Notiz',
  'msg.sending': 'Wird gesendet…',
  'msg.failed': 'Nicht gesendet: {reason}',
  'msg.retry': 'Erneut senden',
  'msg.discard': 'Verwerfen',
  'msg.you': 'Sie',
  'msg.new': 'Neue Nachricht von {name}: {text}',
  'sys.closedBy': '{name} hat die Konversation geschlossen',
  'sys.closed': 'Konversation geschlossen',
  'sys.reopenedBy': '{name} hat die Konversation wieder geöffnet',
  'sys.reopened': 'Konversation wieder geöffnet',
  'sys.assignedBy': '{name} hat die Konversation {assignee} zugewiesen',
  'sys.assigned': '{assignee} zugewiesen',
  'sys.unassignedBy': '{name} hat die Zuweisung aufgehoben',
  'sys.unassigned': 'Zuweisung aufgehoben',
  'sys.someone': 'jemand',

  'typing.named': '{name} schreibt…',
  'typing.anon': 'schreibt…',

  'reply.label': 'Antwort',
  'reply.placeholder': 'Antwort an {name}… Enter sendet, Umschalt+Enter für neue Zeile',
  'reply.notePlaceholder': 'Interne Notiz schreiben. Nur Ihr Team sieht sie.',
  'reply.note': 'Interne Notiz',
  'reply.send': 'Senden',
  'reply.tooLong': 'Die Nachricht ist zu lang.',

  'err.generic': 'Etwas ist schiefgelaufen. Bitte erneut versuchen.',
  'err.network': 'Netzwerkfehler. Prüfen Sie Ihre Verbindung.',
  'err.status': 'Der Status konnte nicht geändert werden.',
  'err.assign': 'Die Zuweisung konnte nicht geändert werden.',
  'err.away': 'Der Abwesenheitsmodus konnte nicht geändert werden.',
  'err.signOut': 'Abmelden fehlgeschlagen.',
  'err.dismiss': 'Schließen',

  'title.unread': '({n}) Parley',
};

/** The dictionaries, exported for tests that compare their keys. */
export const dictionaries = { en, de };

/** The console's language: "de" or "en". */
export const lang = pickLanguage(globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en']);

function pickLanguage(prefs) {
  const first = String(prefs[0] || 'en').toLowerCase();
  return first.startsWith('de') ? 'de' : 'en';
}

const dict = dictionaries[lang];

/**
 * t returns the string for key in the console's language, with each {name}
 * placeholder replaced by vars.name. An unknown key falls back to English,
 * then to the key itself, so a missing translation never shows as blank.
 */
export function t(key, vars) {
  let s = dict[key] ?? en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

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
