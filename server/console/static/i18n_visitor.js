// Console strings of one area, in English and German; i18n.js merges them
// into its dictionaries. Keys are unique across all i18n files.
// This area: what the visitor gave in the chat widget (consents, G1, G2).

export const en = {
  'vis.consents': 'Consents',
  'vis.noConsents': 'No consent recorded.',
  'vis.kind.process.explicit': 'Data processing: agreed',
  'vis.kind.process.legitimate': 'Data processing: legitimate interest',
  'vis.kind.communicate': 'Subscribed: {type}',
  'vis.where': 'In {widget} · text version {version}',
  'vis.text': 'Text shown',
};

export const de = {
  'vis.consents': 'Einwilligungen',
  'vis.noConsents': 'Keine Einwilligung erfasst.',
  'vis.kind.process.explicit': 'Datenverarbeitung: zugestimmt',
  'vis.kind.process.legitimate': 'Datenverarbeitung: berechtigtes Interesse',
  'vis.kind.communicate': 'Abonniert: {type}',
  'vis.where': 'In {widget} · Textversion {version}',
  'vis.text': 'Angezeigter Text',
};
