// Small DOM helpers shared by the views: building elements, forms that show progress and the
// API's messages, notices, confirmation dialogs.

/** h('p', {class: 'x', onclick: f}, 'text', child) -> element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const notice = () => document.getElementById('notice');

/** Shows a message above the page: kind 'error' (the default) or 'ok'. */
export function showNotice(message, kind = 'error') {
  const box = notice();
  box.replaceChildren(
    h('span', { class: 'notice-text' }, message),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: clearNotice }, '×'),
  );
  box.className = `notice notice-${kind}`;
  box.hidden = false;
}

export function clearNotice() {
  notice().hidden = true;
}

let flashed = null;

/** Shows `message` on the next page, after a change of address. */
export function flash(message, kind = 'ok') {
  flashed = [message, kind];
}

/** Clears the last page's notice, and shows the one flashed for this page. */
export function newPage() {
  clearNotice();
  if (flashed) showNotice(...flashed);
  flashed = null;
}

/** Replaces `container`'s content with a "Loading" line, then with what `load` builds. */
export async function fill(container, load) {
  container.replaceChildren(h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    container.replaceChildren(...[await load()].flat());
  } catch (err) {
    container.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, err.message));
  }
}

let fieldCount = 0;

/**
 * A labelled input; `name` is the body field it fills (and where its error shows). The hint
 * and the error describe the input without being part of its name.
 */
export function field(label, name, { type = 'text', value = '', required = false, hint, ...rest } = {}) {
  fieldCount += 1;
  const id = `field-${fieldCount}`;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const common = { id, name, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') };
  let input;
  if (type === 'textarea') {
    input = h('textarea', { ...common, required, rows: rest.rows || 3, ...rest }, value ?? '');
  } else if (type === 'select') {
    input = h('select', { ...common, required },
      rest.options.map(([optionValue, text]) =>
        h('option', { value: optionValue, selected: String(optionValue) === String(value ?? '') }, text)));
  } else if (type === 'checkbox') {
    input = h('input', { ...common, type, checked: Boolean(value), ...rest });
  } else {
    input = h('input', { ...common, type, value: value ?? '', required, ...rest });
  }
  const caption = h('label', { for: id }, label);
  return h('div', { class: `field field-${type}` },
    type === 'checkbox' ? [input, caption] : [caption, input],
    hint ? h('small', { class: 'hint', id: hintId }, hint) : null,
    h('small', { class: 'field-error', id: errorId, 'data-error-for': name, hidden: true }));
}

/**
 * A form that, on submit, runs `action(values, form)` while showing progress; the API's
 * message appears above the form and beside each field it names.
 */
export function form(attributes, children, action, submitLabel) {
  const submit = h('button', { type: 'submit' }, submitLabel);
  const message = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const element = h('form', { ...attributes, novalidate: true }, children, message, h('div', { class: 'actions' }, submit));
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(submit, element, message, () => action(values(element), element));
  });
  return element;
}

/** Runs `work` with `button` showing progress, and its failure in `message` and beside fields. */
export async function busy(button, container, message, work) {
  message.hidden = true;
  container.querySelectorAll('.field-error').forEach((error) => { error.hidden = true; });
  container.querySelectorAll('[aria-invalid]').forEach((input) => input.removeAttribute('aria-invalid'));
  button.disabled = true;
  button.classList.add('is-busy');
  container.setAttribute('aria-busy', 'true');
  try {
    await work();
  } catch (err) {
    message.textContent = err.message;
    message.hidden = false;
    for (const [where, problem] of Object.entries(err.fields || {})) {
      const error = closestErrorSlot(container, where);
      if (!error) continue;
      error.textContent = problem;
      error.hidden = false;
      container.querySelector(`[name="${CSS.escape(error.dataset.errorFor)}"]`)?.setAttribute('aria-invalid', 'true');
    }
  } finally {
    button.disabled = false;
    button.classList.remove('is-busy');
    container.removeAttribute('aria-busy');
  }
}

/** The slot for `a.b.c`'s message: its own, else `a.b`'s, else `a`'s. */
function closestErrorSlot(container, where) {
  const parts = where.split('.');
  for (let length = parts.length; length > 0; length -= 1) {
    const name = CSS.escape(parts.slice(0, length).join('.'));
    const slot = container.querySelector(`[data-error-for="${name}"]`);
    if (slot) return slot;
  }
  return null;
}

/** A button that runs `work` with progress; its failure shows in the page's notice. */
export function actionButton(label, work, attributes = {}) {
  const button = h('button', { type: 'button', ...attributes }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.classList.add('is-busy');
    try {
      await work();
    } catch (err) {
      showNotice(err.message);
    } finally {
      button.disabled = false;
      button.classList.remove('is-busy');
    }
  });
  return button;
}

/** A form's values: text as strings ('' for empty), checkboxes as booleans. */
export function values(element) {
  const result = {};
  for (const input of element.querySelectorAll('input[name], select[name], textarea[name]')) {
    result[input.name] = input.type === 'checkbox' ? input.checked : input.value;
  }
  return result;
}

/** Empty text -> null, as the API's nullable fields expect. */
export const orNull = (text) => (text === undefined || text.trim() === '' ? null : text.trim());

/**
 * Asks in a modal dialog. With `input` ({label, type}) resolves to what was typed, else to
 * true; resolves to null when cancelled.
 */
export function ask({ title, message, confirmLabel = 'OK', danger = false, input }) {
  const dialog = document.getElementById('dialog');
  const entry = input ? h('input', { type: input.type || 'text', name: 'answer', required: true, minlength: input.minlength }) : null;
  const confirm = h('button', { type: 'submit', class: danger ? 'danger' : null, value: 'ok' }, confirmLabel);
  dialog.replaceChildren(
    h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', {}, title),
      message ? h('p', {}, message) : null,
      entry ? h('label', { class: 'field' }, h('span', {}, input.label), entry) : null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close('cancel') }, 'Cancel'),
        confirm)));
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'ok') resolve(null);
      else resolve(entry ? entry.value : true);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    (entry || confirm).focus();
  });
}

/** A table with a header row; `rows` are arrays of cells. */
export function table(headings, rows, empty = 'Nothing here yet.') {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
      h('tbody', {}, rows.map((cells) =>
        h('tr', {}, cells.map((cell, index) => h('td', { 'data-label': headings[index] },
          // On a phone a cell is a two-column grid (label, value): several parts stay one value.
          Array.isArray(cell) ? h('div', {}, cell) : cell)))))));
}

/** A date from the API, in the reader's time zone. */
export const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '');

export const yesNo = (flag) => (flag ? 'yes' : 'no');
