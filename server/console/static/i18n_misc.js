// Console strings of one area, in English and German; i18n.js merges them
// into its dictionaries. Keys are unique across all i18n files.

export const en = {
  // A ticket or deal changed, recorded on its conversations (R5).
  'rec.updated': '{name} changed {kind} “{record}”: {changes}',
  'rec.updatedPlain': '{name} changed {kind} “{record}”',
  'rec.change': '{field} {from} → {to}',
  'rec.empty': 'none',
  'rec.record': 'record',
};

export const de = {
  'rec.updated': '{name} hat {kind} „{record}“ geändert: {changes}',
  'rec.updatedPlain': '{name} hat {kind} „{record}“ geändert',
  'rec.change': '{field} {from} → {to}',
  'rec.empty': 'keine Angabe',
  'rec.record': 'Datensatz',
};
