// The result cards of the four depots, their loading, empty and error states.

import { h, icon, imageIcon, humanBytes, humanCount, humanAgo, formatDate } from './dom.js';
import { errorBlock } from './errors.js';

const GENERIC_ICON = '/icons/container.svg';

export const DEPOT_LABELS = {
  local: 'Local',
  appcenter: 'App Center',
  official: 'Official',
  dockerhub: 'Docker Hub',
};

function typeChip(type) {
  return h('span', { class: `chip chip-${type}` }, type === 'lxc' ? 'LXC' : 'Docker');
}

function installedBadge() {
  return h('span', { class: 'badge badge-installed' }, icon('check'), 'Installed');
}

function busyBadge() {
  return h('span', { class: 'badge badge-busy', 'data-busy-badge': '' }, 'Downloading');
}

// A local tag whose registry holds a newer image (its last check said so).
function updateBadge(check) {
  const when = check?.checked_at ? ` (checked ${humanAgo(check.checked_at)})` : '';
  return h('span', { class: 'badge badge-update', 'data-update-badge': '',
                     title: `A newer image is at its registry${when}` },
           'update', h('span', { class: 'visually-hidden' }, ' available'));
}

// The error of a tag's last update check, as a disclosure the keyboard can open too.
function checkError(check) {
  const when = check.checked_at ? formatDate(new Date(check.checked_at * 1000)) : '';
  return h('details', { class: 'check-error', 'data-check-error': '' },
    h('summary', { title: check.error }, icon('alert'), 'Check failed'),
    h('p', {}, check.error),
    when ? h('p', { class: 'muted' }, `Last check: ${when}`) : null);
}

function sizeOf(value) {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

// A card's identity for live updates: installed and downloading marks.
function imageKey(type, name) {
  return `${type}|${name}`;
}

export class ResultsView {
  constructor(handlers) {
    // onDownload(entry), onInspect(entry, tag), onDelete(entry, tag), onUpdate(entry, tag)
    this.handlers = handlers;
    this.root = document.getElementById('results');
    this.status = document.getElementById('result-status');
    this.canManage = false;  // an admin's session: may download, update and delete
    this.checks = new Map();  // "name|tag" → the tag's last update check (GET updates)
    this.catalogIcons = null;  // a CatalogIcons: local images keep their catalog's icon
  }

  loading(depot) {
    this.root.setAttribute('aria-busy', 'true');
    if (!this.root.querySelector('.card')) {
      const skeletons = [];
      for (let i = 0; i < 6; i += 1) {
        skeletons.push(h('div', { class: 'card skeleton', 'aria-hidden': 'true' },
          h('div', { class: 'card-head' }, h('div', { class: 'sk sk-icon' }),
            h('div', { class: 'sk-lines' }, h('div', { class: 'sk sk-line w60' }),
              h('div', { class: 'sk sk-line w40' }))),
          h('div', { class: 'sk sk-line' }), h('div', { class: 'sk sk-line w80' })));
      }
      this.root.replaceChildren(h('div', { class: 'grid' }, skeletons));
    }
    this.status.textContent = depot === 'dockerhub' ? 'Searching Docker Hub…' : 'Loading…';
  }

  error(depot, err, retry) {
    this.root.setAttribute('aria-busy', 'false');
    this.status.textContent = '';
    const button = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Try again');
    button.addEventListener('click', retry);
    this.root.replaceChildren(h('div', { class: 'state state-error', role: 'alert' },
      h('h2', {}, `Cannot load ${DEPOT_LABELS[depot]}`),
      errorBlock(err.message, { fallback: err.message, cls: 'state-message' }),
      err.status ? h('p', { class: 'muted small' }, `HTTP ${err.status}`) : null,
      button));
  }

  render(depot, data, { filterText, isBusy, checks = new Map() }) {
    this.checks = checks;
    this.root.setAttribute('aria-busy', 'false');
    const results = Array.isArray(data?.results) ? data.results : [];
    const count = depot === 'dockerhub' && Number.isFinite(data.num_results)
      ? data.num_results : results.length;
    const noun = count === 1 ? 'image' : 'images';
    this.status.textContent = filterText
      ? `${count} ${noun} matching “${filterText}”` : `${count} ${noun}`;
    if (results.length === 0) {
      this.root.replaceChildren(this.empty(depot, filterText));
      return;
    }
    const cards = results.map((entry) => {
      const card = depot === 'local' ? this.localCard(entry)
                 : depot === 'dockerhub' ? this.hubCard(entry)
                 : this.catalogCard(entry, depot);
      return h('li', { class: 'grid-item' }, card);
    });
    this.root.replaceChildren(h('ul', { class: 'grid', 'aria-label': `${DEPOT_LABELS[depot]} images` },
                                cards));
    this.updateBusy(isBusy);
  }

  empty(depot, filterText) {
    let title = 'No images found';
    let text = filterText ? `Nothing matches “${filterText}”. Try another search.`
                          : 'This depot lists no images.';
    if (depot === 'local' && !filterText) {
      title = 'No local images yet';
      text = 'Download one from App Center, Official or Docker Hub, or import an archive file; ' +
        'it appears here when complete.';
    }
    return h('div', { class: 'state' }, h('div', { class: 'state-icon' }, icon('box')),
             h('h2', {}, title), h('p', { class: 'muted' }, text));
  }

  cardShell({ entry, iconEl, title, subtitle, chips, description, body, actions }) {
    const titleId = `t-${Math.random().toString(36).slice(2, 9)}`;
    return h('article', {
      class: 'card', 'aria-labelledby': titleId,
      dataset: { imageKey: imageKey(entry.type, entry.name), name: entry.name, type: entry.type },
    },
      h('div', { class: 'card-head' }, iconEl,
        h('div', { class: 'card-title' },
          h('h3', { id: titleId, title }, title),  // the full name on hover when cut
          subtitle ? h('p', { class: 'card-sub mono' }, subtitle) : null)),
      h('div', { class: 'chips' }, chips),
      description ? h('p', { class: 'card-desc' }, description) : null,
      body,
      h('div', { class: 'card-actions' }, actions));
  }

  downloadButton(entry) {
    const name = entry.title || entry.name;
    const button = h('button', { type: 'button', class: 'btn btn-primary btn-download',
                                 'aria-label': `Download ${name}` }, icon('download'), 'Download');
    button.addEventListener('click', () => this.handlers.onDownload(entry, button));
    return button;
  }

  statusMarks(entry) {
    return h('div', { class: 'marks' }, entry.installed ? installedBadge() : null,
             h('span', { 'data-busy-slot': '' }));
  }

  catalogCard(entry, depot) {
    const size = sizeOf(entry.size);
    const chips = [typeChip(entry.type)];
    if (entry.version) {
      const v = /^\d/.test(entry.version) ? `v${entry.version}` : entry.version;
      chips.push(h('span', { class: 'chip', title: 'Version' }, v));
    }
    if (entry.arch) chips.push(h('span', { class: 'chip' }, entry.arch));
    if (size !== null) chips.push(h('span', { class: 'chip', 'data-bytes': size }, humanBytes(size)));
    return this.cardShell({
      entry,
      iconEl: imageIcon(entry.icon, entry.icon_local || GENERIC_ICON),
      title: entry.title || entry.name,
      subtitle: entry.title && entry.title !== entry.name ? entry.name : null,
      chips,
      description: entry.description,
      actions: [this.statusMarks(entry), this.downloadButton({ ...entry, depot })],
    });
  }

  hubCard(entry) {
    const chips = [typeChip('docker')];
    if (entry.is_official) {
      chips.unshift(h('span', { class: 'chip chip-official' }, icon('check'), 'Official'));
    }
    if (entry.is_trusted) chips.push(h('span', { class: 'chip' }, 'Automated'));
    chips.push(h('span', { class: 'chip chip-stars', title: `${entry.star_count || 0} stars` },
                 icon('star'), h('span', { class: 'visually-hidden' }, 'Stars: '),
                 humanCount(entry.star_count)));
    return this.cardShell({
      entry: { ...entry, type: 'docker' },
      iconEl: imageIcon(null, GENERIC_ICON),
      title: entry.name,
      chips,
      description: entry.description || null,
      actions: [this.statusMarks(entry),
                this.downloadButton({ ...entry, type: 'docker', depot: 'dockerhub' })],
    });
  }

  // The Update action of a flagged tag: the download of the same tag.
  updateButton(entry, tag) {
    const button = h('button', { type: 'button', class: 'btn btn-primary btn-small',
                                 'data-update-button': '',
                                 'aria-label': `Update ${entry.name}:${tag}` },
                     icon('update'), 'Update');
    button.addEventListener('click', () => {
      if (button.getAttribute('aria-disabled') === 'true') return;
      this.handlers.onUpdate(entry, tag, button);
    });
    return button;
  }

  localCard(entry) {
    const tags = Array.isArray(entry.tags) ? entry.tags : [];
    const sizes = Array.isArray(entry.size) ? entry.size.map(sizeOf) : [];
    const flags = Array.isArray(entry.update_available) ? entry.update_available : [];
    const label = (tag) => `${entry.name}:${tag}`;
    const rows = tags.map((tag, i) => {
      const actions = [];
      const check = entry.type === 'docker' ? this.checks.get(`${entry.name}|${tag}`) : null;
      const flagged = entry.type === 'docker' && flags[i] === true;
      const update = flagged && this.canManage ? this.updateButton(entry, tag) : null;
      if (entry.type === 'docker') {
        const inspect = h('button', { type: 'button', class: 'btn btn-ghost btn-small',
                                      'aria-label': `Details of ${label(tag)}` },
                          icon('info'), 'Details');
        inspect.addEventListener('click', () => this.handlers.onInspect(entry, tag, inspect));
        actions.push(inspect);
      }
      const del = h('button', { type: 'button', class: 'btn btn-ghost btn-small btn-danger-text',
                                'aria-label': `Delete ${label(tag)}` }, icon('trash'), 'Delete');
      del.addEventListener('click', () => this.handlers.onDelete(entry, tag, del));
      actions.push(del);
      return h('li', { class: 'tag-row', dataset: { tag } },
        h('span', { class: 'tag-label' }, h('span', { class: 'tag-name mono', title: tag }, tag),
          flagged ? updateBadge(check) : null),
        h('span', { class: 'tag-size', 'data-bytes': sizes[i] ?? '' },
          sizes[i] === null || sizes[i] === undefined ? '—' : humanBytes(sizes[i])),
        check?.error ? checkError(check) : null,
        h('span', { class: 'tag-actions' }, update,
          h('span', { class: 'tag-actions-main' }, actions)));
    });
    const chips = [typeChip(entry.type),
                   h('span', { class: 'chip' }, `${tags.length} ${tags.length === 1 ? 'tag' : 'tags'}`)];
    const actions = [h('div', { class: 'marks' }, h('span', { 'data-busy-slot': '' }))];
    if (tags.length > 1) {
      const all = h('button', { type: 'button', class: 'btn btn-secondary btn-small',
                                'aria-label': `Delete every tag of ${entry.name}` },
                    icon('trash'), 'Delete all tags');
      all.addEventListener('click', () => this.handlers.onDelete(entry, null, all));
      actions.push(all);
    }
    const card = this.cardShell({
      entry,
      iconEl: this.localIcon(entry),
      title: entry.name,
      chips,
      description: entry.description || null,
      body: h('ul', { class: 'tag-rows', 'aria-label': `Tags of ${entry.name}` }, rows),
      actions,
    });
    card.localEntry = entry;
    return card;
  }

  // The catalog's shipped icon at once, the remote one (the download's `icon`, else the
  // catalog's) once it loads.
  localIcon(entry) {
    const known = this.catalogIcons?.get(entry.type, entry.name);
    return imageIcon(entry.icon || known?.icon, known?.icon_local || GENERIC_ICON);
  }

  // Marks the cards of images with a running download; their Update buttons wait for it
  // (aria-disabled, so that a button the keyboard is on keeps the focus).
  updateBusy(isBusy) {
    for (const card of this.root.querySelectorAll('article.card[data-image-key]')) {
      const busy = isBusy(card.dataset.type, card.dataset.name);
      for (const button of card.querySelectorAll('[data-update-button]')) {
        button.setAttribute('aria-disabled', String(busy));
      }
      const slot = card.querySelector('[data-busy-slot]');
      if (!slot) continue;
      const badge = slot.querySelector('[data-busy-badge]');
      if (busy && !badge) slot.append(busyBadge());
      if (!busy && badge) badge.remove();
    }
  }

  // A tag's flag changed (an "update" event): its badge and Update action follow, in place.
  updateFlag(type, name, tag, available, isBusy) {
    const key = CSS.escape(imageKey(type, name));
    const card = this.root.querySelector(`article.card[data-image-key="${key}"]`);
    const row = card?.querySelector(`li.tag-row[data-tag="${CSS.escape(tag)}"]`);
    if (!row) return;
    const badge = row.querySelector('[data-update-badge]');
    const button = row.querySelector('[data-update-button]');
    if (!available) {
      badge?.remove();
      if (button) {
        const focused = button === document.activeElement;
        button.remove();
        if (focused) row.querySelector('.tag-actions button')?.focus();
      }
      return;
    }
    if (!badge) {
      row.querySelector('.tag-label').append(updateBadge(this.checks.get(`${name}|${tag}`)));
    }
    if (!button && this.canManage) {
      const entry = { ...(card.localEntry || {}), type, name };
      const again = this.updateButton(entry, tag);
      again.setAttribute('aria-disabled', String(isBusy(type, name)));
      row.querySelector('.tag-actions').prepend(again);
    }
  }

  // Marks the cards of images that are (or are no longer) installed.
  updateInstalled(installed) {
    for (const card of this.root.querySelectorAll('article.card[data-image-key]')) {
      const marks = card.querySelector('.marks');
      if (!marks) continue;
      const has = installed.has(card.dataset.imageKey);
      const badge = marks.querySelector('.badge-installed');
      if (has && !badge) marks.prepend(installedBadge());
      if (!has && badge) badge.remove();
    }
  }
}
