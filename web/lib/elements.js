// Building DOM without innerHTML: text always goes in as text, so nothing a
// person stored in the vault can ever become markup.

/**
 * @typedef {string | number | boolean | null | undefined | EventListener
 *   | Record<string, string>} PropValue
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * Creates an element.
 *
 * Props: `class` sets the class list; `dataset` sets data-* attributes;
 * a function under `onx` becomes an `x` event listener; `value` and
 * `checked` set the live property; `true` adds a boolean attribute and
 * `false`, null or undefined leave it out; anything else is an attribute.
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, PropValue>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') {
      node.className = String(value);
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key === 'value' || key === 'checked') {
      /** @type {any} */ (node)[key] = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  node.append(...flatten(children));
  return node;
}

/**
 * @param {(Child | Child[])[]} children
 * @returns {(Node | string)[]}
 */
function flatten(children) {
  /** @type {(Node | string)[]} */
  const out = [];
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    out.push(typeof child === 'number' ? String(child) : child);
  }
  return out;
}

let counter = 0;

/**
 * A fresh element id, for tying a <label for> to its control.
 * @param {string} prefix
 */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * A labelled form field: a <label> above its control, with an optional hint
 * tied to the control by aria-describedby.
 * @param {string} label visible label, which is also the control's accessible name
 * @param {HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  if (!control.id) control.id = uid('field');
  /** @type {HTMLElement[]} */
  const parts = [el('label', { for: control.id }, label), control];
  if (hint) {
    const hintId = uid('hint');
    const described = control.getAttribute('aria-describedby');
    control.setAttribute('aria-describedby', described ? `${described} ${hintId}` : hintId);
    parts.push(el('p', { class: 'hint', id: hintId }, hint));
  }
  return el('div', { class: 'field' }, parts);
}

/**
 * An alert area for a form: hidden while empty, so only real messages are
 * in the accessibility tree; showing one makes screen readers announce it.
 */
export function alertBox() {
  const box = el('p', { class: 'alert', role: 'alert', hidden: true });
  return {
    node: box,
    /** @param {string} message */
    show(message) {
      box.textContent = message;
      box.hidden = false;
    },
    clear() {
      box.textContent = '';
      box.hidden = true;
    },
  };
}

/**
 * A polite status line (e.g. "Saved"); it stays in the page while empty so
 * that assistive technology notices when text appears.
 */
export function statusLine() {
  const line = el('p', { class: 'status', role: 'status' });
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  return {
    node: line,
    /**
     * @param {string} message
     * @param {number} [clearAfterMs] clear the message after this long
     */
    show(message, clearAfterMs) {
      clearTimeout(timer);
      line.textContent = message;
      if (clearAfterMs) timer = setTimeout(() => { line.textContent = ''; }, clearAfterMs);
    },
    clear() {
      clearTimeout(timer);
      line.textContent = '';
    },
  };
}

/**
 * Marks a form busy while `work` runs: its submit buttons are disabled and
 * aria-busy is set, so a double click cannot send twice.
 * @template T
 * @param {HTMLFormElement} form
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function whileBusy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  const wasDisabled = buttons.map((b) => b.disabled);
  form.setAttribute('aria-busy', 'true');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    buttons.forEach((b, i) => { b.disabled = wasDisabled[i]; });
  }
}
