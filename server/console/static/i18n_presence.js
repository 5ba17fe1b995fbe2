// Console strings of one area, in English and German; i18n.js merges them
// into its dictionaries. Keys are unique across all i18n files.

export const en = {
  'presence.setAway': 'Set away',
  'presence.setAvailable': 'Set available',
  'presence.setAwayFor': 'Set {name} away',
  'presence.setAvailableFor': 'Set {name} available',
  'presence.setAwayFailed': 'Could not change the away mode of this teammate.',
  'presence.reassign': 'Reassign replies while away',
  'presence.reassignHint': 'While you are away, visitor replies on your conversations go to an available teammate.',
  'presence.reassignFailed': 'Could not change the reassign setting.',
  'presence.reassigned': '{what}',
};

export const de = {
  'presence.setAway': 'Abwesend setzen',
  'presence.setAvailable': 'Verfügbar setzen',
  'presence.setAwayFor': '{name} abwesend setzen',
  'presence.setAvailableFor': '{name} verfügbar setzen',
  'presence.setAwayFailed': 'Der Abwesenheitsmodus dieses Teammitglieds konnte nicht geändert werden.',
  'presence.reassign': 'Antworten bei Abwesenheit neu zuweisen',
  'presence.reassignHint': 'Während Sie abwesend sind, gehen Antworten von Besuchern in Ihren Konversationen an ein verfügbares Teammitglied.',
  'presence.reassignFailed': 'Die Einstellung zum Neuzuweisen konnte nicht geändert werden.',
  'presence.reassigned': 'Neu zugewiesen, weil die zuständige Person abwesend ist.',
};
