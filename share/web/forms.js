// The small form parts the Settings view is built of: a labelled field, a password input,
// an outcome line (an error as an alert, a success as a status), a submit that shows the
// server's refusal, and a titled section.

import { ApiError } from './api.js';
import { h } from './dom.js';

const is401 = (err) => err instanceof ApiError && err.status === 401;

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input,
           hint ? h('p', { class: 'muted small' }, hint) : null);
}

export function passwordInput(autocomplete, attrs = {}) {
  return h('input', { type: 'password', autocomplete, required: true, ...attrs });
}

// A form's outcome line: an error (role alert) or a success (role status).
export function outcome() {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const ok = h('p', { class: 'form-result', role: 'status', hidden: true });
  const show = (el, text) => { el.textContent = text || ''; el.hidden = !text; };
  return {
    els: [error, ok],
    error: (text) => { show(ok, ''); show(error, text); },
    ok: (text) => { show(error, ''); show(ok, text); },
  };
}

// Runs an async form action with its submit button disabled; an error is shown in `out`.
export async function submitting(button, out, action) {
  button.disabled = true;
  try {
    await action();
  } catch (err) {
    if (!is401(err)) out.error(err.message);
  } finally {
    button.disabled = false;
  }
}

// The answer of `call`, or null once its error is shown in `box` under its heading (a 401 is
// the app's: its login form takes over). `words(err)` says what went wrong.
export async function readInto(box, call, words = (err) => err.message) {
  try {
    return await call();
  } catch (err) {
    if (!is401(err)) box.replaceChildren(box.firstChild, h('p', { class: 'form-error' }, words(err)));
    return null;
  }
}

export function section(id, title, ...content) {
  return h('section', { class: 'settings-section', id, 'aria-labelledby': `${id}-title` },
           h('h2', { id: `${id}-title` }, title), content);
}

