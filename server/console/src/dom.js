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

/** uid returns a fresh id for label/aria wiring. */
let counter = 0;
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
