// The Local tab's order and its total: by name (the listing's own order), by size (the
// largest first: the sum of an image's tag sizes) or by date (the newest image config's
// `Created` first, read with inspect once per tag and kept until the image changes; LXC
// images, which have no inspect, last). The total is the sum of every listed tag's size,
// as the cards show them (unpacked; layers two images share are counted in each).

import { api } from './api.js';
import { humanBytes } from './dom.js';

const ORDERS = ['name', 'size', 'date'];
const INSPECTS_AT_ONCE = 4;

const sizeOf = (entry) => (Array.isArray(entry.size) ? entry.size : [])
  .reduce((sum, s) => sum + (Number.isFinite(Number(s)) ? Number(s) : 0), 0);

export class LocalSort {
  constructor({ onChange }) {
    this.select = document.getElementById('local-sort');
    this.total = document.getElementById('local-total');
    this.box = document.getElementById('local-tools');
    this.created = new Map();  // "name|tag" → epoch ms (NaN: unknown)
    this.select.addEventListener('change', () => onChange());
  }

  get order() {
    return ORDERS.includes(this.select.value) ? this.select.value : 'name';
  }

  // An image was added or removed: dates are read again.
  forget() {
    this.created.clear();
  }

  show(visible) {
    this.box.hidden = !visible;
  }

  // The results in the chosen order (a new array; the listing's is by name already).
  async sort(results) {
    const list = [...results];
    this.total.textContent = `Total ${humanBytes(list.reduce((s, e) => s + sizeOf(e), 0))}`;
    if (this.order === 'size') {
      list.sort((a, b) => sizeOf(b) - sizeOf(a) || a.name.localeCompare(b.name));
    } else if (this.order === 'date') {
      await this.readDates(list);
      const newest = (e) => Math.max(-Infinity, ...(e.type === 'docker' ? e.tags : [])
        .map((t) => this.created.get(`${e.name}|${t}`)).filter(Number.isFinite));
      list.sort((a, b) => newest(b) - newest(a) || a.name.localeCompare(b.name));
    }
    return list;
  }

  async readDates(list) {
    const wanted = [];
    for (const e of list) {
      if (e.type !== 'docker') continue;
      for (const t of e.tags || []) {
        if (!this.created.has(`${e.name}|${t}`)) wanted.push([e.name, t]);
      }
    }
    const next = async () => {
      for (let item = wanted.shift(); item; item = wanted.shift()) {
        const [name, tag] = item;
        let when = NaN;
        try {
          when = Date.parse((await api.inspect(name, tag)).Created);
        } catch {
          // an image deleted meanwhile sorts last
        }
        this.created.set(`${name}|${tag}`, when);
      }
    };
    await Promise.all(Array.from({ length: INSPECTS_AT_ONCE }, next));
  }
}
