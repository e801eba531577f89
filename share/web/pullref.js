// "Download by reference" (admins): any Docker reference a user types, as `docker pull` takes
// it (busybox, ghcr.io/owner/app:1.2, 127.0.0.1:5000/team/x, name@sha256:...), split into the
// name and the tag or digest of the download path. wharfd checks the grammar: its 400 message
// is what the form shows, so the page and the API never disagree on what is valid.

import { api, ApiError } from './api.js';

// {name, tag} of a reference: the tag is what follows the last ':' after the last '/', a
// digest what follows '@'; no tag is latest. Throws an Error whose message says what is
// missing; anything else is left to wharfd.
export function splitReference(text) {
  const ref = String(text || '').trim();
  if (!ref) throw new Error('Type an image reference, e.g. busybox:1.36.');
  const at = ref.indexOf('@');
  if (at >= 0) {
    const name = ref.slice(0, at).replace(/:[^/]*$/, '');  // name:tag@digest: the digest wins
    const digest = ref.slice(at + 1);
    if (!name || !digest) throw new Error(`“${ref}” needs a name before @ and a digest after it.`);
    return { name, tag: digest };
  }
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) {
    const name = ref.slice(0, colon);
    const tag = ref.slice(colon + 1);
    if (!name || !tag) throw new Error(`“${ref}” needs a name before : and a tag after it.`);
    return { name, tag };
  }
  return { name: ref, tag: 'latest' };
}

export class PullForm {
  constructor({ onStarted }) {
    this.onStarted = onStarted;  // (name, tag) once wharfd took the download
    this.form = document.getElementById('pull-form');
    this.input = document.getElementById('pull-ref');
    this.error = document.getElementById('pull-error');
    this.submit = document.getElementById('pull-submit');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.start();
    });
    this.input.addEventListener('input', () => this.show(''));
  }

  setAdmin(admin) {
    this.form.hidden = !admin;
  }

  show(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
    if (message) this.input.setAttribute('aria-invalid', 'true');
    else this.input.removeAttribute('aria-invalid');
  }

  async start() {
    let ref;
    try {
      ref = splitReference(this.input.value);
    } catch (err) {
      this.show(err.message);
      this.input.focus();
      return;
    }
    this.submit.disabled = true;
    this.show('');
    try {
      await api.download('dockerhub', 'docker', ref.name, ref.tag, {});
      this.input.value = '';
      this.onStarted(ref.name, ref.tag);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) {
        this.show(err.message);
        this.input.focus();
      }
    } finally {
      this.submit.disabled = false;
    }
  }
}
