// A tiny element builder. Text always goes in through text nodes, never
// through the HTML parser, so names and messages from visitors show literally.

/**
 * h creates an element. props keys:
 *   class, text (textContent), on{Event} (listeners), dataset (object),
 *   value/checked/disabled/hidden/selected (properties), anything else an
 *   attribute (null/false/undefined leaves it out, true sets it empty).
 * children: nodes or strings (as text); null, false and undefined are skipped,
 * arrays are flattened.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * plainClick reports whether a click on a link should stay in the console:
 * the main button, no modifier (those open a new tab or window).
 */
export const plainClick = (e) => e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;

/**
 * backLink is a "back" link of a pane: a real link to href, which a plain
 * click follows inside the console by calling go.
 */
export function backLink(href, cls, label, go) {
  return h(
    'a',
    { href, class: cls, onClick: (e) => plainClick(e) && (e.preventDefault(), go()) },
    h('span', { class: 'icon icon-back', 'aria-hidden': 'true' }),
    h('span', { text: label }),
  );
}

/**
 * checkList is a fieldset of checkboxes, one per item ({ id, label }), with
 * legend and, below it, the optional hint node; empty is the text when there
 * are no items. checked are the ids checked at first; onChange gets the
 * checked ids after each change. Each box has data-fk fk-<id>; field, if
 * given, is the fieldset's data-field.
 */
export function checkList({ cls = 'check-list', field, legend, hint, items, checked, fk, empty, onChange }) {
  const set = new Set(checked);
  return h(
    'fieldset',
    { class: cls, dataset: field ? { field } : null },
    h('legend', { text: legend }),
    hint,
    items.length
      ? items.map((it) =>
          h(
            'label',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              value: it.id,
              checked: set.has(it.id),
              dataset: { fk: `${fk}-${it.id}` },
              onChange: (e) => {
                if (e.target.checked) set.add(it.id);
                else set.delete(it.id);
                onChange([...set]);
              },
            }),
            h('span', { dir: 'auto', text: it.label }),
          ),
        )
      : h('p', { class: 'muted small', text: empty }),
  );
}

/** uid returns a fresh id for label/aria wiring. */
let counter = 0;
/**
 * onOff is the console's one on/off control: a switch (a checkbox with
 * role="switch") with its label. A choice among several stays a checkbox
 * (checkList) or a radio.
 */
export function onOff(input, text) {
  input.setAttribute('role', 'switch');
  return h('label', { class: 'switch' }, input, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'switch-label', text }));
}

export function uid(prefix = 'p') {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** newClientId returns a random message clientId (letters, digits, "-"). */
export function newClientId() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return 'c-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** isTextTarget reports whether a key event comes from a text field. */
export function isTextTarget(el) {
  if (!el || !(el instanceof Element)) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(el.type);
}
