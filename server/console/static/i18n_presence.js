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
  'presence.maxOpen': 'Max. open chats',
  'presence.maxOpenHint': 'Routing gives you no new chats while you have this many open. 0: no limit.',
  'presence.maxOpenInvalid': 'Enter a whole number from 0 to {max}.',
  'presence.maxOpenFailed': 'Could not change your limit of open chats.',
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
  'presence.maxOpen': 'Max. offene Chats',
  'presence.maxOpenHint': 'Solange du so viele offene Chats hast, weist dir das Routing keine neuen zu. 0: keine Grenze.',
  'presence.maxOpenInvalid': 'Gib eine ganze Zahl von 0 bis {max} ein.',
  'presence.maxOpenFailed': 'Deine Grenze für offene Chats konnte nicht geändert werden.',
};
