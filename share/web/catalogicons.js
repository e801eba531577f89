// The icons the curated catalogs (App Center, Official) give their images, by type and name,
// so that a local image shows the icon it had in its catalog: the shipped one at once, the
// catalog's remote one (or the one its download request named) once it loads. Read once a
// session; a failed read leaves the generic icon.

import { api } from './api.js';

export class CatalogIcons {
  constructor() {
    this.icons = new Map();  // "type|name" → {icon, icon_local}
    this.loaded = null;
  }

  reset() {
    this.icons.clear();
    this.loaded = null;
  }

  // A catalog listing the page has read anyway.
  learn(results) {
    for (const e of results || []) {
      if (!e?.name || !e.icon_local) continue;
      const key = `${e.type}|${e.name}`;
      if (!this.icons.has(key)) this.icons.set(key, { icon: e.icon || '', icon_local: e.icon_local });
    }
  }

  // Resolves once both catalogs were read (or failed); never rejects.
  load() {
    this.loaded ||= Promise.all(['official', 'appcenter'].map(
      (from) => api.list({ from }).then((data) => this.learn(data?.results), () => {})));
    return this.loaded;
  }

  get(type, name) {
    return this.icons.get(`${type}|${name}`) || null;
  }
}
