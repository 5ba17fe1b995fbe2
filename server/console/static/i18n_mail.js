// Console strings of one area, in English and German; i18n.js merges them
// into its dictionaries. Keys are unique across all i18n files.

export const en = {
  // An inbox's email settings (mailsettings.js).
  'mail.heading': 'Team email',
  'mail.formOf': 'Team email of {name}',
  'mail.addresses': 'Email addresses',
  'mail.addressesPlaceholder': 'support@example.com',
  'mail.addressesHint': 'One per line. Mail forwarded to these addresses lands in this inbox, and replies go out from them. An address belongs to one inbox only.',
  'mail.notifyNew': 'Email these members about every new conversation',
  'mail.notifyAssigned': 'Email these members about new messages in conversations assigned to them',
  'mail.save': 'Save email settings',
  'mail.saved': 'Email settings of {name} saved.',
  'mail.failed': 'Could not save the email settings.',
};

export const de = {
  'mail.heading': 'Team-E-Mail',
  'mail.formOf': 'Team-E-Mail von {name}',
  'mail.addresses': 'E-Mail-Adressen',
  'mail.addressesPlaceholder': 'support@example.com',
  'mail.addressesHint': 'Eine pro Zeile. An diese Adressen weitergeleitete E-Mails landen in diesem Postfach, und Antworten gehen von ihnen aus. Eine Adresse gehört nur zu einem Postfach.',
  'mail.notifyNew': 'Diese Mitglieder bei jeder neuen Konversation per E-Mail benachrichtigen',
  'mail.notifyAssigned': 'Diese Mitglieder bei neuen Nachrichten in ihnen zugewiesenen Konversationen per E-Mail benachrichtigen',
  'mail.save': 'E-Mail-Einstellungen speichern',
  'mail.saved': 'E-Mail-Einstellungen von {name} gespeichert.',
  'mail.failed': 'Die E-Mail-Einstellungen konnten nicht gespeichert werden.',
};
