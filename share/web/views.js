// The result cards of the four depots, their loading, empty and error states.

import { h, icon, imageIcon, humanBytes, humanCount } from './dom.js';

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
    this.handlers = handlers;  // onDownload(entry), onInspect(entry, tag), onDelete(entry, tag)
    this.root = document.getElementById('results');
    this.status = document.getElementById('result-status');
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
      h('p', { class: 'state-message' }, err.message),
      err.status ? h('p', { class: 'muted small' }, `HTTP ${err.status}`) : null,
      button));
  }

  render(depot, data, { filterText, isBusy }) {
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
          h('h3', { id: titleId }, title),
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

  localCard(entry) {
    const tags = Array.isArray(entry.tags) ? entry.tags : [];
    const sizes = Array.isArray(entry.size) ? entry.size.map(sizeOf) : [];
    const label = (tag) => `${entry.name}:${tag}`;
    const rows = tags.map((tag, i) => {
      const actions = [];
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
        h('span', { class: 'tag-name mono' }, tag),
        h('span', { class: 'tag-size', 'data-bytes': sizes[i] ?? '' },
          sizes[i] === null || sizes[i] === undefined ? '—' : humanBytes(sizes[i])),
        h('span', { class: 'tag-actions' }, actions));
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
    return this.cardShell({
      entry,
      iconEl: imageIcon(entry.icon, GENERIC_ICON),
      title: entry.name,
      chips,
      description: entry.description || null,
      body: h('ul', { class: 'tag-rows', 'aria-label': `Tags of ${entry.name}` }, rows),
      actions,
    });
  }

  // Marks the cards of images with a running download.
  updateBusy(isBusy) {
    for (const card of this.root.querySelectorAll('article.card[data-image-key]')) {
      const slot = card.querySelector('[data-busy-slot]');
      if (!slot) continue;
      const busy = isBusy(card.dataset.type, card.dataset.name);
      const badge = slot.querySelector('[data-busy-badge]');
      if (busy && !badge) slot.append(busyBadge());
      if (!busy && badge) badge.remove();
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
