// The sitrep situation board. It reads the daemon's own API: the snapshot (/situation),
// then the change events (/events, Server-Sent Events) from the snapshot's seq, resuming
// from the last event seen after any disconnect, a daemon restart included. Each event is
// applied to the page at once from its own data; the full record of what it touched is
// then fetched again, so the page never computes a status itself. Everything from the
// news is written into the document as text, never as markup.
'use strict';
(() => {
  const STATUSES = ['planned', 'underway', 'completed', 'halted', 'cancelled', 'denied'];
  const STAGE = { planned: 0, underway: 1, completed: 2 };
  const TOKEN_KEY = 'sitrep.token';
  const MAX_BACKOFF = 3000;
  // A burst larger than this is fetched as one snapshot rather than record by record.
  const BULK = 150;

  const S = {
    seq: 0,
    devs: new Map(),
    ents: new Map(),
    reports: new Map(),
    places: {},
    world: null,
    // development id -> seq of the last event that moved its status (arrival order).
    touched: new Map(),
    // original report id -> [{report, similarity}] (near-duplicates, once reported).
    nearDups: new Map(),
    dirtyDevs: new Set(),
    dirtyEnts: new Set(),
    syncing: false,
    es: null,
    attempt: 0,
    failures: 0,
    connects: 0,
    firstView: false,
    version: 0,
    rows: new Map(),
    rowVersion: new Map(),
    lastOpened: null,
    view: null,
    placesDue: null,
    listHash: '#/',
    listComplete: false,
  };

  // ---- small helpers ------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  // Appends children to an element, leaving out the empty ones.
  function put(el, ...children) {
    for (const c of children.flat(Infinity)) {
      if (c !== null && c !== undefined && c !== false) el.append(c);
    }
  }

  function svg(tag, attrs) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) el.setAttribute(k, String(v));
    }
    return el;
  }

  const dateFmt = new Intl.DateTimeFormat('en-GB', {
    day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
  });

  function when(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return h('span', { class: 'date' }, '');
    return h('time', { datetime: iso, class: 'date' }, dateFmt.format(t));
  }

  // A report that says nowhere when it was written is dated by its file: say so, since a
  // copy resets that time.
  function dated(iso, r) {
    const t = when(iso);
    if (!r || (r.date_origin !== 'mtime' && r.date_origin !== 'received')) return t;
    return [t, ' ', h('span', {
      class: 'date-origin',
      title: 'The report gives no date: this is when its file was written or received',
    }, '(file time)')];
  }

  function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
  }

  function cap(s) {
    return s ? s[0].toUpperCase() + s.slice(1) : s;
  }

  function devHref(id) {
    return '#/d/' + id.split('/').map(encodeURIComponent).join('/');
  }

  function entHref(id) {
    return '#/e/' + encodeURIComponent(id);
  }

  function entName(id) {
    const e = S.ents.get(id);
    return e ? e.name : id;
  }

  function statusBadge(status) {
    return h('span', { class: 'status s-' + status }, status || 'no status');
  }

  function announce(text) {
    const el = document.getElementById('announce');
    el.textContent = text;
  }

  // ---- the API --------------------------------------------------------------------------

  class AuthNeeded extends Error {}

  function takeTokenFromAddress() {
    const u = new URL(location.href);
    const t = u.searchParams.get('access_token');
    if (t) {
      sessionStorage.setItem(TOKEN_KEY, t);
      u.searchParams.delete('access_token');
      history.replaceState(null, '', u.pathname + u.search + u.hash);
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function api(path) {
    const headers = {};
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (r.status === 401) {
      askToken();
      throw new AuthNeeded('token needed');
    }
    if (!r.ok) {
      const e = new Error(path + ': ' + r.status);
      e.status = r.status;
      throw e;
    }
    return r.json();
  }

  function askToken() {
    setConn('auth', 'Token needed');
    const form = document.getElementById('token-form');
    form.hidden = false;
    document.getElementById('token-input').focus();
  }

  // ---- the model ------------------------------------------------------------------------

  function claimOf(ev, status) {
    return {
      report: ev.report,
      source: ev.source,
      published_at: ev.published_at,
      sentence: ev.sentence_index,
      evidence: ev.sentence,
      trigger: ev.trigger,
      status: status || null,
      cue: ev.cue,
      modality: 'asserted',
      roles: {},
    };
  }

  function derive(d) {
    const last = d.history && d.history.length ? d.history[d.history.length - 1] : null;
    const setter = last ? d.claims[last.claim] : null;
    d._moved = setter ? Date.parse(setter.published_at) || 0 : 0;
    d._setter = setter;
    const roles = d.roles || {};
    const ids = [roles.actor, roles.location, roles.target, ...(roles.participants || [])]
      .filter(Boolean);
    d._entities = new Set(ids);
    for (const c of d.claims || []) {
      const r = c.roles || {};
      for (const id of [r.actor, r.location, r.target, ...(r.participants || [])]) {
        if (id) d._entities.add(id);
      }
    }
    d._version = ++S.version;
    d._search = null;
    return d;
  }

  function title(d) {
    const r = d.roles || {};
    const names = [r.actor, r.location, r.target, ...(r.participants || [])]
      .filter((v, i, a) => v && a.indexOf(v) === i)
      .map(entName);
    return cap(d.kind) + (names.length ? ': ' + names.join(' · ') : '');
  }

  function searchText(d) {
    if (d._search === null) {
      const parts = [d.id, d.kind, d.status];
      for (const id of d._entities) {
        const e = S.ents.get(id);
        parts.push(id);
        if (e) parts.push(e.name, ...Object.keys(e.aliases || {}));
      }
      for (const c of d.claims || []) parts.push(c.evidence, c.source);
      d._search = parts.filter(Boolean).join('\n').toLowerCase();
    }
    return d._search;
  }

  function putReport(r) {
    if (r && r.id) S.reports.set(r.id, r);
  }

  function loadSnapshot(snap) {
    S.devs.clear();
    S.ents.clear();
    S.reports.clear();
    for (const e of snap.entities || []) S.ents.set(e.id, e);
    for (const r of snap.reports || []) {
      putReport(r);
      const of = nearDupOf(r);
      if (of) addNearDup(of.id, { report: r.id, similarity: of.similarity });
    }
    for (const d of snap.developments || []) {
      d._seq = snap.seq;
      S.devs.set(d.id, derive(d));
    }
    S.seq = Math.max(S.seq, snap.seq || 0);
    showSeq();
  }

  function nearDupOf(r) {
    const v = r.near_duplicate_of || r.near_duplicate;
    if (!v) return null;
    if (typeof v === 'string') return { id: v, similarity: null };
    return { id: v.report || v.id || v.of, similarity: v.similarity ?? null };
  }

  function addNearDup(original, entry) {
    if (!original) return;
    const list = S.nearDups.get(original) || [];
    if (!list.some((x) => x.report === entry.report)) list.push(entry);
    S.nearDups.set(original, list);
  }

  // Applies one change event to the page's model at once, and marks what it touched to be
  // fetched again in full.
  function apply(e) {
    const id = e.subject;
    const data = e.data || {};
    const seq = Number(e.id);
    switch (e.type) {
      case 'report.accepted':
        putReport({
          id, source: data.source, title: data.title, published_at: data.published_at,
          date_origin: data.date_origin, dateline: data.dateline, file: data.file,
          sentences: data.sentences, revises: data.revises,
        });
        break;
      case 'report.near_duplicate': {
        const of = data.near_duplicate_of || data.duplicate_of || data.original;
        addNearDup(of, { report: id, similarity: data.similarity ?? null });
        const r = S.reports.get(id) || { id, source: data.source, file: data.file };
        r.near_duplicate_of = of;
        putReport(r);
        for (const d of S.devs.values()) {
          if ((d.claims || []).some((c) => c.report === of)) d._version = ++S.version;
        }
        break;
      }
      case 'entity.discovered': {
        if (!S.ents.has(id)) {
          S.ents.set(id, {
            id, kind: data.kind, name: data.name, aliases: { [data.alias]: 1 },
            mentions: 1, reports: data.report ? [data.report] : [],
          });
        }
        S.dirtyEnts.add(id);
        if (data.kind === 'place' || data.kind === 'facility') placesSoon();
        break;
      }
      case 'entity.alias_added': {
        const ent = S.ents.get(id);
        if (ent) {
          ent.aliases = ent.aliases || {};
          ent.aliases[data.alias] = (ent.aliases[data.alias] || 0) + 1;
          if (data.name) ent.name = data.name;
        }
        S.dirtyEnts.add(id);
        placesSoon();
        break;
      }
      case 'development.detected': {
        const d = S.devs.get(id) || {
          id, kind: data.kind, frame: data.kind, roles: data.roles || {}, history: [],
          claims: [], disputes: [], sources: [],
        };
        d.status = data.status;
        d.roles = data.roles || d.roles;
        d.claims.push(claimOf(data.evidence || {}, data.status));
        d.history.push({
          from: null, to: data.status, claim: d.claims.length - 1,
          report: (data.evidence || {}).report, source: (data.evidence || {}).source,
          cue: (data.evidence || {}).cue,
        });
        S.devs.set(id, derive(d));
        S.touched.set(id, seq);
        S.dirtyDevs.add(id);
        announce(title(d) + ': detected, ' + data.status);
        break;
      }
      case 'development.status_changed': {
        const d = S.devs.get(id);
        if (d) {
          d.status = data.to;
          d.claims.push(claimOf(data.evidence || {}, data.to));
          d.history.push({
            from: data.from, to: data.to, claim: d.claims.length - 1,
            report: (data.evidence || {}).report, source: (data.evidence || {}).source,
            cue: (data.evidence || {}).cue,
          });
          derive(d);
          announce(title(d) + ': ' + data.from + ' to ' + data.to);
        }
        S.touched.set(id, seq);
        S.dirtyDevs.add(id);
        break;
      }
      case 'development.corroborated':
      case 'development.disputed': {
        const d = S.devs.get(id);
        if (d) {
          d.claims.push(claimOf(data.evidence || {}, data.claimed));
          if (e.type === 'development.disputed') {
            d.disputes.push({
              claim: d.claims.length - 1, claimed: data.claimed, against: -1,
              against_status: d.status, _against: data.against,
            });
          }
          derive(d);
        }
        S.dirtyDevs.add(id);
        break;
      }
      case 'report.retracted':
        S.reports.delete(id);
        for (const d of Array.isArray(data.developments) ? data.developments : []) {
          if (typeof d === 'string') S.dirtyDevs.add(d);
        }
        break;
      case 'development.retired':
        S.devs.delete(id);
        S.dirtyDevs.delete(id);
        S.touched.delete(id);
        break;
      case 'entity.retired':
        S.ents.delete(id);
        S.dirtyEnts.delete(id);
        break;
      default:
        // story.* and anything newer: the records it names are fetched again.
        for (const d of Array.isArray(data.developments) ? data.developments : []) {
          if (typeof d === 'string') S.dirtyDevs.add(d);
        }
    }
  }

  function onEvent(e) {
    const seq = Number(e.id);
    if (!(seq > S.seq)) return; // already applied (a resumed stream starts after it)
    S.seq = seq;
    apply(e);
    showSeq();
    renderSoon();
    syncSoon();
  }

  // Fetches the full records of what events touched: one at a time for a few, the whole
  // snapshot for a burst.
  function syncSoon() {
    if (S.syncing) return;
    S.syncing = true;
    setTimeout(sync, 30);
  }

  async function sync() {
    try {
      while (S.dirtyDevs.size || S.dirtyEnts.size) {
        if (S.dirtyDevs.size + S.dirtyEnts.size > BULK) {
          S.dirtyDevs.clear();
          S.dirtyEnts.clear();
          const snap = await api('situation');
          if (snap.seq >= S.seq) loadSnapshot(snap);
          else S.dirtyDevs.add('*');
          renderSoon();
          continue;
        }
        const devs = [...S.dirtyDevs].slice(0, 12);
        const ents = [...S.dirtyEnts].slice(0, 12);
        devs.forEach((d) => S.dirtyDevs.delete(d));
        ents.forEach((x) => S.dirtyEnts.delete(x));
        await Promise.all([
          ...devs.filter((id) => id !== '*').map(async (id) => {
            const path = 'developments/' + id.split('/').map(encodeURIComponent).join('/');
            try {
              const r = await api(path);
              const old = S.devs.get(id);
              if (!old || (old._seq || 0) <= r.seq) {
                r.development._seq = r.seq;
                S.devs.set(id, derive(r.development));
              }
            } catch (err) {
              if (err instanceof AuthNeeded) throw err;
            }
          }),
          ...ents.map(async (id) => {
            try {
              const r = await api('entities/' + encodeURIComponent(id));
              S.ents.set(id, r.entity);
              for (const d of S.devs.values()) {
                if (d._entities.has(id)) { d._search = null; d._version = ++S.version; }
              }
            } catch (err) {
              if (err instanceof AuthNeeded) throw err;
            }
          }),
        ]);
        renderSoon();
      }
    } catch (err) {
      // The stream's reconnection sees a daemon that went away; records are fetched again
      // by the events that follow.
    } finally {
      S.syncing = false;
    }
  }

  function placesSoon(delay) {
    if (S.placesDue) return;
    S.placesDue = setTimeout(async () => {
      S.placesDue = null;
      try {
        const r = await api('board/places');
        S.places = r.places || {};
        if (S.view === 'map' || S.view === 'dev' || S.view === 'ent') renderSoon(true);
      } catch (err) {
        // shown as "not on the map" until the next try
      }
    }, delay ?? 400);
  }

  // ---- the event stream -----------------------------------------------------------------

  function setConn(state, label) {
    const el = document.getElementById('conn');
    el.dataset.state = state;
    el.querySelector('.label').textContent = label;
    document.documentElement.dataset.conn = state;
  }

  function showSeq() {
    const el = document.getElementById('seq');
    el.dataset.seq = String(S.seq);
    el.textContent = 'at event ' + S.seq + ' · ' + S.devs.size + ' developments';
  }

  function connect() {
    if (S.es) S.es.close();
    const p = new URLSearchParams({ since: String(S.seq) });
    if (token()) p.set('access_token', token());
    const es = new EventSource('events?' + p.toString());
    S.es = es;
    let opened = false;
    es.onopen = () => {
      opened = true;
      S.attempt = 0;
      S.failures = 0;
      S.connects += 1;
      document.documentElement.dataset.connects = String(S.connects);
      setConn('live', 'Live');
    };
    es.onmessage = (m) => {
      let e;
      try {
        e = JSON.parse(m.data);
      } catch (err) {
        return;
      }
      onEvent(e);
    };
    // Fell too far behind: the stream ends; resuming from the last event loses nothing.
    es.addEventListener('stream.lagged', () => {
      es.close();
      retry();
    });
    es.onerror = () => {
      if (S.es !== es) return;
      es.close();
      if (!opened) S.failures += 1;
      retry();
    };
  }

  function retry() {
    const delay = Math.min(250 * 2 ** S.attempt, MAX_BACKOFF);
    S.attempt += 1;
    setConn('reconnecting', 'Reconnecting');
    setTimeout(async () => {
      try {
        const ready = await api('readyz');
        // A daemon that has published fewer events than the page has seen is another
        // picture (a new data folder): start again from its snapshot.
        if (typeof ready.seq === 'number' && ready.seq < S.seq) S.failures = 2;
      } catch (err) {
        if (err instanceof AuthNeeded) return;
        // 503: up, still scanning its folder; the stream works already.
        if (err.status !== 503) {
          retry();
          return;
        }
      }
      // A stream refused twice by a daemon that answers: the position is no longer kept
      // (410), so start again from a snapshot.
      if (S.failures >= 2) {
        S.failures = 0;
        try {
          S.seq = 0;
          loadSnapshot(await api('situation'));
          renderSoon();
        } catch (err) {
          retry();
          return;
        }
      }
      connect();
    }, delay);
  }

  // ---- rendering ------------------------------------------------------------------------

  let renderQueued = false;
  let forceView = false;
  let lastRender = 0;

  // At most one render every 50 ms: a burst of events is drawn once, not once per event.
  function renderSoon(force, now) {
    if (force) forceView = true;
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(() => {
      renderQueued = false;
      lastRender = performance.now();
      render();
    }, now ? 0 : Math.max(0, lastRender + 50 - performance.now()));
  }

  function route() {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, query] = hash.split('?');
    const q = new URLSearchParams(query || '');
    if (path.startsWith('/d/')) {
      return { view: 'dev', id: path.slice(3).split('/').map(decodeURIComponent).join('/'), q };
    }
    if (path.startsWith('/e/')) return { view: 'ent', id: decodeURIComponent(path.slice(3)), q };
    if (path === '/entities') return { view: 'entities', q };
    if (path === '/map') return { view: 'map', q };
    return { view: 'developments', q };
  }

  let shown = { key: null, version: -1 };

  function render() {
    const r = route();
    const main = document.getElementById('main');
    main.setAttribute('aria-busy', 'false');
    for (const a of document.querySelectorAll('nav a')) {
      const on = a.dataset.view === r.view
        || (a.dataset.view === 'developments' && r.view === 'dev')
        || (a.dataset.view === 'entities' && r.view === 'ent');
      if (on) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const key = r.view + ':' + (r.id || '');
    const changed = key !== shown.key;
    if (changed) {
      S.rows.clear();
      S.rowVersion.clear();
      S.listComplete = false;
    }
    S.view = r.view;
    if (r.view === 'developments') {
      S.listHash = location.hash || '#/';
      renderList(main, r, changed);
    } else if (changed || forceView || shown.version !== S.version) {
      // What had the focus, to give it back after the view is drawn again.
      const was = document.activeElement;
      const focusId = was && was.id;
      const focusHref = was && was.getAttribute && was.getAttribute('href');
      const scroll = window.scrollY;
      main.replaceChildren();
      if (r.view === 'dev') renderDevelopment(main, r.id);
      else if (r.view === 'ent') renderEntity(main, r.id);
      else if (r.view === 'entities') renderEntities(main, r);
      else if (r.view === 'map') renderMap(main, r);
      if (!changed) {
        window.scrollTo(0, scroll);
        const again = (focusId && document.getElementById(focusId))
          || (focusHref && main.querySelector('a[href="' + CSS.escape(focusHref) + '"]'));
        if (again) {
          again.focus({ preventScroll: true });
          if (again.tagName === 'INPUT') again.setSelectionRange(again.value.length, again.value.length);
        }
      }
    }
    forceView = false;
    shown = { key, version: S.version };
    // While the page asks for the token, a render never takes the focus from its field.
    const asking = !document.getElementById('token-form').hidden;
    if (changed && S.firstView && !asking) {
      const heading = main.querySelector('h2');
      if (r.view === 'developments' && S.lastOpened) {
        const row = S.rows.get(S.lastOpened);
        if (row) row.querySelector('a').focus();
        else if (heading) heading.focus();
      } else if (heading) {
        heading.focus();
      }
    }
    if (!S.firstView) {
      S.firstView = true;
      performance.mark('sitrep:first-view');
      // The frame after the first view is built: when it is on the screen.
      requestAnimationFrame(() => setTimeout(() => {
        performance.mark('sitrep:first-frame');
        document.documentElement.dataset.ready = '1';
      }, 0));
    }
  }

  // The evidence sentence with the trigger and the cue marked.
  function evidence(c, tag) {
    const text = c.evidence || '';
    const el = h(tag || 'blockquote', { class: 'evidence' });
    const lower = text.toLowerCase();
    const ranges = [];
    const find = (needle, cls, note) => {
      if (!needle) return;
      const n = needle.toLowerCase();
      if (lower.length !== text.length) return;
      let from = 0;
      while (from <= lower.length) {
        const i = lower.indexOf(n, from);
        if (i < 0) return;
        const before = i === 0 || !/[\p{L}\p{N}]/u.test(lower[i - 1]);
        const after = i + n.length >= lower.length || !/[\p{L}\p{N}]/u.test(lower[i + n.length]);
        if (before && after) {
          ranges.push({ start: i, end: i + n.length, cls, note });
          return;
        }
        from = i + 1;
      }
    };
    const form = c.cue && c.cue.startsWith('form:');
    if (c.cue && !form) find(c.cue, 'cue', 'cue: ' + c.cue);
    find(c.trigger, form ? 'cue trigger' : 'trigger',
      form ? 'trigger; its form decided (' + c.cue.slice(5) + ')' : 'trigger');
    ranges.sort((a, b) => a.start - b.start);
    let at = 0;
    for (const r of ranges) {
      if (r.start < at) continue;
      el.append(text.slice(at, r.start));
      el.append(h('mark', { class: r.cls, title: r.note }, text.slice(r.start, r.end)));
      at = r.end;
    }
    el.append(text.slice(at));
    return el;
  }

  function source(c) {
    const r = S.reports.get(c.report) || {};
    return h('span', { class: 'src' },
      h('span', { class: 'outlet' }, c.source || r.source || 'unknown outlet'), ' · ',
      dated(c.published_at || r.published_at, r),
      r.title ? [' · ', h('span', { class: 'report-title' }, r.title)] : null);
  }

  // -- developments list --

  function filters(q) {
    return {
      text: (q.get('q') || '').trim().toLowerCase(),
      kind: q.get('kind') || '',
      status: q.get('status') || '',
      entity: (q.get('entity') || '').trim().toLowerCase(),
    };
  }

  function matches(d, f) {
    if (f.kind && d.kind !== f.kind) return false;
    if (f.status && d.status !== f.status) return false;
    if (f.entity) {
      let ok = false;
      for (const id of d._entities) {
        const e = S.ents.get(id);
        const names = [id, ...(e ? [e.name, ...Object.keys(e.aliases || {})] : [])];
        if (names.some((n) => n && n.toLowerCase().includes(f.entity))) { ok = true; break; }
      }
      if (!ok) return false;
    }
    if (f.text && !f.text.split(/\s+/).every((w) => searchText(d).includes(w))) return false;
    return true;
  }

  function setQuery(name, value) {
    const r = route();
    const q = new URLSearchParams(r.q);
    if (value) q.set(name, value);
    else q.delete(name);
    const s = q.toString();
    history.replaceState(null, '', '#/' + (s ? '?' + s : ''));
    renderSoon();
  }

  function filterBar(f) {
    const kinds = [...new Set([...S.devs.values()].map((d) => d.kind))].sort();
    const opt = (v, label, sel) => h('option', { value: v, selected: sel === v }, label);
    return h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', null, 'Search ',
        h('input', {
          id: 'f-text', type: 'search', value: f.text, placeholder: 'words in names or evidence',
          oninput: (e) => setQuery('q', e.target.value),
        })),
      h('label', null, 'Kind ',
        h('select', { id: 'f-kind', onchange: (e) => setQuery('kind', e.target.value) },
          opt('', 'any', f.kind), kinds.map((k) => opt(k, k, f.kind)))),
      h('label', null, 'Status ',
        h('select', { id: 'f-status', onchange: (e) => setQuery('status', e.target.value) },
          opt('', 'any', f.status), STATUSES.map((s) => opt(s, s, f.status)))),
      h('label', null, 'Entity ',
        h('input', {
          id: 'f-entity', type: 'search', list: 'entity-names', value: f.entity,
          placeholder: 'name or alias', oninput: (e) => setQuery('entity', e.target.value),
          // The suggestions are made when they are wanted, not with the first view.
          onfocus: () => {
            const names = [...new Set([...S.ents.values()].map((e) => e.name))].sort();
            document.getElementById('entity-names')
              .replaceChildren(...names.slice(0, 2000).map((n) => h('option', { value: n })));
          },
        })),
      h('datalist', { id: 'entity-names' }),
      h('output', { id: 'f-count', 'aria-live': 'polite' }));
  }

  function row(d) {
    const c = d._setter;
    return h('li', {
      class: 'dev', id: 'row-' + d.id, 'data-id': d.id, 'data-kind': d.kind, 'data-status': d.status,
      'data-claims': (d.claims || []).length,
    },
    h('a', { href: devHref(d.id), class: 'row' },
      h('span', { class: 'line' },
        statusBadge(d.status),
        h('span', { class: 'kind' }, d.kind),
        h('span', { class: 'title' }, title(d)),
        h('span', { class: 'meta' },
          c ? when(c.published_at) : null,
          ' · ', plural((d.claims || []).length, 'claim'),
          d.disputes && d.disputes.length ? h('span', { class: 'disputed' }, ' · disputed') : null)),
      c ? evidence(c, 'q') : null,
      c ? h('span', { class: 'src-line' }, c.source || 'unknown outlet',
        (S.reports.get(c.report) || {}).title ? ' · ' + S.reports.get(c.report).title : '') : null));
  }

  function renderList(main, r, changed) {
    const f = filters(r.q);
    if (changed || !main.querySelector('.groups')) {
      main.replaceChildren(
        h('h2', { tabindex: '-1', id: 'view-title' }, 'Developments'),
        filterBar(f),
        h('div', { class: 'groups' },
          STATUSES.map((s) => h('section', { class: 'group', 'data-status': s, 'aria-labelledby': 'g-' + s },
            h('h3', { id: 'g-' + s }, statusBadge(s), ' ', h('span', { class: 'count' }, '')),
            h('ol', { class: 'devs' })))));
    } else {
      // Keep what the user is typing; refresh only the kinds offered.
      const sel = main.querySelector('#f-kind');
      const kinds = [...new Set([...S.devs.values()].map((d) => d.kind))].sort();
      if (sel && sel.options.length !== kinds.length + 1) {
        const cur = sel.value;
        sel.replaceChildren(h('option', { value: '' }, 'any'),
          kinds.map((k) => h('option', { value: k, selected: k === cur }, k)));
      }
    }
    const groups = new Map(STATUSES.map((s) => [s, []]));
    let total = 0;
    for (const d of S.devs.values()) {
      if (!d.status) continue;
      total += 1;
      if (!matches(d, f)) continue;
      if (!groups.has(d.status)) groups.set(d.status, []);
      groups.get(d.status).push(d);
    }
    let shownCount = 0;
    // The first pass makes the rows at the top of the list, the next ones the rest: the
    // first view is on the screen before a thousand rows are built.
    let budget = S.listComplete ? Infinity : 150;
    let pending = false;
    const active = document.activeElement;
    const activeRow = active && active.closest && active.closest('li.dev');
    const activeId = activeRow ? activeRow.dataset.id : null;
    for (const [status, list] of groups) {
      list.sort((a, b) => (b._moved - a._moved)
        || ((S.touched.get(b.id) || 0) - (S.touched.get(a.id) || 0))
        || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      shownCount += list.length;
      const section = main.querySelector('.group[data-status="' + status + '"]');
      if (!section) continue;
      section.hidden = list.length === 0;
      section.querySelector('.count').textContent = String(list.length);
      const ol = section.querySelector('ol');
      let cur = ol.firstChild;
      for (const d of list) {
        let el = S.rows.get(d.id);
        if (!el && budget <= 0) {
          pending = true;
          continue;
        }
        if (!el || S.rowVersion.get(d.id) !== d._version) {
          if (!el) budget -= 1;
          const fresh = row(d);
          if (el) {
            fresh.classList.add('moved');
            if (el.parentNode) el.replaceWith(fresh);
            if (cur === el) cur = fresh;
          }
          el = fresh;
          S.rows.set(d.id, el);
          S.rowVersion.set(d.id, d._version);
        }
        if (el !== cur) ol.insertBefore(el, cur);
        else cur = cur.nextSibling;
      }
      while (cur) {
        const next = cur.nextSibling;
        cur.remove();
        cur = next;
      }
    }
    if (pending) {
      renderSoon(false, true);
    } else if (!S.listComplete) {
      S.listComplete = true;
      performance.mark('sitrep:list-complete');
    }
    document.documentElement.dataset.complete = pending ? '0' : '1';
    const count = main.querySelector('#f-count');
    if (count) {
      count.textContent = shownCount === total
        ? total + ' developments'
        : shownCount + ' of ' + total + ' developments';
    }
    if (activeId && document.activeElement !== active) {
      const el = S.rows.get(activeId);
      if (el) el.querySelector('a').focus({ preventScroll: true });
    }
    if (!total) {
      if (!main.querySelector('.empty')) {
        put(main, h('p', { class: 'empty' }, 'No developments yet. Drop reports into the watch folder; they appear here as they are read.'));
      }
    } else {
      const empty = main.querySelector('.empty');
      if (empty) empty.remove();
    }
  }

  // -- a development --

  function roleList(d) {
    const r = d.roles || {};
    const dl = h('dl', { class: 'roles' });
    const add = (label, ids) => {
      if (!ids.length) return;
      dl.append(h('dt', null, label),
        h('dd', null, ids.map((id, i) => [i ? ', ' : '', h('a', { href: entHref(id) }, entName(id))])));
    };
    add('Actor', r.actor ? [r.actor] : []);
    add('Location', r.location ? [r.location] : []);
    add('Target', r.target ? [r.target] : []);
    add('Participants', r.participants || []);
    const at = placeOf(d);
    if (at) {
      dl.append(h('dt', null, 'On the map'),
        h('dd', null, h('a', { href: '#/map?focus=' + encodeURIComponent(d.id) },
          at.place + ', ' + at.country + ' (' + at.lat.toFixed(2) + ', ' + at.lon.toFixed(2) + ')'),
        at.approximate ? ' (the actor’s country)' : ''));
    }
    return dl;
  }

  function claimItem(c, extra) {
    return h('li', { class: 'claim' },
      h('span', { class: 'claim-head' },
        c.status ? statusBadge(c.status) : h('span', { class: 'status s-none' }, 'no status'),
        c.modality && c.modality !== 'asserted' ? h('span', { class: 'modality' }, c.modality) : null,
        ' ', source(c), extra || null),
      evidence(c));
  }

  // A story as the picture may give it: an id, or an object with one.
  function storyKey(v) {
    if (v === undefined || v === null) return null;
    return typeof v === 'object' ? String(v.id ?? JSON.stringify(v)) : String(v);
  }

  function storySection(d) {
    const key = storyKey(d.story);
    if (key === null) return null;
    const label = typeof d.story === 'object' ? (d.story.title || d.story.name || key) : key;
    const same = [...S.devs.values()].filter((o) => o.id !== d.id && storyKey(o.story) === key);
    const reports = [...S.reports.values()].filter((r) => storyKey(r.story) === key);
    return h('section', { class: 'story', 'aria-labelledby': 'story-h' },
      h('h3', { id: 'story-h' }, 'Story'),
      h('p', null, h('span', { class: 'story-name' }, label),
        ' · ', plural(reports.length, 'report'), ' · ', plural(same.length + 1, 'development')),
      same.length ? h('ul', null, same.map((o) => h('li', null,
        statusBadge(o.status), ' ', h('a', { href: devHref(o.id) }, title(o))))) : null);
  }

  function nearDupSection(d) {
    const mine = new Set((d.claims || []).map((c) => c.report));
    const items = [];
    for (const rid of mine) {
      for (const nd of S.nearDups.get(rid) || []) {
        const r = S.reports.get(nd.report) || {};
        const o = S.reports.get(rid) || {};
        items.push(h('li', null,
          h('span', { class: 'outlet' }, r.source || r.file || nd.report), ' repeats ',
          h('span', { class: 'outlet' }, o.source || o.file || rid),
          nd.similarity !== null && nd.similarity !== undefined
            ? ' (similarity ' + Number(nd.similarity).toFixed(2) + ')' : ''));
      }
    }
    if (!items.length) return null;
    return h('section', { 'aria-labelledby': 'nd-h' },
      h('h3', { id: 'nd-h' }, 'Near-duplicates'), h('ul', { class: 'near-dups' }, items));
  }

  function renderDevelopment(main, id) {
    const d = S.devs.get(id);
    put(main, h('p', { class: 'crumbs' }, h('a', { href: S.listHash || '#/' }, '← Developments')));
    if (!d) {
      put(main, h('h2', { tabindex: '-1' }, 'No development ' + id),
        h('p', null, 'It may not have a status yet, or the id is wrong.'));
      return;
    }
    S.lastOpened = d.id;
    const setters = new Set((d.history || []).map((t) => t.claim));
    const disputers = new Set((d.disputes || []).map((x) => x.claim));
    const rank = (s) => (s in STAGE ? STAGE[s] : -1);
    const supporting = [];
    const earlier = [];
    const other = [];
    (d.claims || []).forEach((c, i) => {
      if (setters.has(i) || disputers.has(i)) return;
      if (!c.status || c.modality !== 'asserted') other.push(c);
      else if (c.status === d.status) supporting.push(c);
      else if (rank(c.status) >= 0 && rank(c.status) < rank(d.status)) earlier.push(c);
      else other.push(c);
    });
    put(main, 
      h('article', { class: 'development', 'data-id': d.id, 'data-status': d.status },
        h('h2', { tabindex: '-1', id: 'view-title' }, title(d)),
        h('p', { class: 'dev-head' }, statusBadge(d.status), ' ', h('span', { class: 'kind' }, d.kind),
          ' · ', h('code', null, d.id),
          d.sources && d.sources.length ? ' · supported by ' + d.sources.join(', ') : ''),
        roleList(d),
        storySection(d),
        h('section', { 'aria-labelledby': 'hist-h' },
          h('h3', { id: 'hist-h' }, 'Status history'),
          h('ol', { class: 'timeline' }, (d.history || []).map((t) => {
            const c = d.claims[t.claim] || {};
            return h('li', { class: 'step', 'data-to': t.to },
              h('span', { class: 'step-head' },
                t.from ? [statusBadge(t.from), ' → '] : h('span', { class: 'first' }, 'first known as '),
                statusBadge(t.to), ' ', source(c)),
              evidence(c),
              h('span', { class: 'why' }, 'trigger ', h('code', null, c.trigger || '?'),
                ', cue ', h('code', null, t.cue || c.cue || 'none')));
          }))),
        h('section', { 'aria-labelledby': 'sup-h' },
          h('h3', { id: 'sup-h' }, 'Corroborating (' + (supporting.length + earlier.length) + ')'),
          supporting.length || earlier.length
            ? h('ul', { class: 'claims corroborating' },
              supporting.map((c) => claimItem(c)),
              earlier.map((c) => claimItem(c, h('span', { class: 'lag' }, ' · an earlier stage, history'))))
            : h('p', { class: 'none' }, 'No other report states this yet.')),
        (d.disputes || []).length
          ? h('section', { 'aria-labelledby': 'dis-h' },
            h('h3', { id: 'dis-h' }, 'Disputing (' + d.disputes.length + ')'),
            h('ul', { class: 'claims disputing' }, d.disputes.map((x) => {
              const against = d.claims[x.against];
              return claimItem(d.claims[x.claim] || {}, against
                ? h('span', { class: 'against' }, ' · against the ' + x.against_status
                  + ' of ' + (against.source || 'an unknown outlet'))
                : null);
            })))
          : null,
        other.length
          ? h('section', { 'aria-labelledby': 'oth-h' },
            h('h3', { id: 'oth-h' }, 'Other mentions (' + other.length + ')'),
            h('p', { class: 'note' }, 'Hedged, negated or background claims, and mentions without a status: kept as evidence, never moving the status.'),
            h('ul', { class: 'claims other' }, other.map((c) => claimItem(c))))
          : null,
        nearDupSection(d)));
  }

  // -- entities --

  function devsOf(id) {
    return [...S.devs.values()].filter((d) => d._entities.has(id));
  }

  function renderEntities(main, r) {
    const text = (r.q.get('q') || '').toLowerCase();
    const kind = r.q.get('kind') || '';
    const count = new Map();
    for (const d of S.devs.values()) for (const id of d._entities) count.set(id, (count.get(id) || 0) + 1);
    const list = [...S.ents.values()]
      .filter((e) => (!kind || e.kind === kind)
        && (!text || [e.name, e.id, ...Object.keys(e.aliases || {})].some((n) => n.toLowerCase().includes(text))))
      .sort((a, b) => (count.get(b.id) || 0) - (count.get(a.id) || 0) || (b.mentions || 0) - (a.mentions || 0)
        || a.name.localeCompare(b.name));
    const kinds = [...new Set([...S.ents.values()].map((e) => e.kind))].sort();
    const set = (name, value) => {
      const q = new URLSearchParams(route().q);
      if (value) q.set(name, value); else q.delete(name);
      history.replaceState(null, '', '#/entities' + (q.toString() ? '?' + q : ''));
      renderSoon(true);
    };
    put(main, 
      h('h2', { tabindex: '-1', id: 'view-title' }, 'Entities'),
      h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
        h('label', null, 'Search ', h('input', {
          id: 'e-text', type: 'search', value: text, oninput: (e) => set('q', e.target.value),
        })),
        h('label', null, 'Kind ', h('select', { id: 'e-kind', onchange: (e) => set('kind', e.target.value) },
          h('option', { value: '' }, 'any'), kinds.map((k) => h('option', { value: k, selected: k === kind }, k)))),
        h('output', null, list.length + ' of ' + S.ents.size + ' entities')),
      h('table', { class: 'entities' },
        h('thead', null, h('tr', null, ['Name', 'Kind', 'Aliases (count)', 'Developments', 'Reports']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, list.slice(0, 1500).map((e) => h('tr', { 'data-id': e.id },
          h('th', { scope: 'row' }, h('a', { href: entHref(e.id), class: 'row' }, e.name)),
          h('td', null, e.kind),
          h('td', { class: 'aliases' }, aliasText(e, 4)),
          h('td', { class: 'num' }, String(count.get(e.id) || 0)),
          h('td', { class: 'num' }, String((e.reports || []).length)))))),
      list.length > 1500 ? h('p', { class: 'note' }, 'The first 1,500 shown; search to narrow.') : null);
  }

  function aliasText(e, max) {
    const a = Object.entries(e.aliases || {}).sort((x, y) => y[1] - x[1]);
    const shown = a.slice(0, max).map(([n, c]) => n + ' (' + c + ')').join(', ');
    return a.length > max ? shown + ', +' + (a.length - max) : shown;
  }

  function renderEntity(main, id) {
    const e = S.ents.get(id);
    put(main, h('p', { class: 'crumbs' }, h('a', { href: '#/entities' }, '← Entities')));
    if (!e) {
      put(main, h('h2', { tabindex: '-1' }, 'No entity ' + id));
      return;
    }
    const devs = devsOf(id);
    const reports = (e.reports || []).map((r) => S.reports.get(r) || { id: r })
      .sort((a, b) => (Date.parse(b.published_at) || 0) - (Date.parse(a.published_at) || 0));
    const roleOf = (d) => {
      const r = d.roles || {};
      if (r.actor === id) return 'actor';
      if (r.location === id) return 'location';
      if (r.target === id) return 'target';
      if ((r.participants || []).includes(id)) return 'participant';
      return 'named in a claim';
    };
    const at = S.places[id];
    put(main, h('article', { class: 'entity', 'data-id': id },
      h('h2', { tabindex: '-1', id: 'view-title' }, e.name),
      h('p', null, h('span', { class: 'kind' }, e.kind), ' · ', h('code', null, e.id), ' · ',
        (e.mentions || 0) + ' mentions',
        at ? [' · ', h('a', { href: '#/map' }, at.place + ', ' + at.country)] : null),
      h('section', { 'aria-labelledby': 'al-h' }, h('h3', { id: 'al-h' }, 'Aliases'),
        h('ul', { class: 'aliases' }, Object.entries(e.aliases || {}).sort((x, y) => y[1] - x[1])
          .map(([n, c]) => h('li', null, n, ' ', h('span', { class: 'count' }, '×' + c))))),
      h('section', { 'aria-labelledby': 'dv-h' }, h('h3', { id: 'dv-h' }, 'Developments (' + devs.length + ')'),
        devs.length ? h('ul', { class: 'plain' }, devs.map((d) => h('li', null, statusBadge(d.status), ' ',
          h('a', { href: devHref(d.id), class: 'row' }, title(d)), ' · ', roleOf(d))))
          : h('p', { class: 'none' }, 'None.')),
      h('section', { 'aria-labelledby': 'rp-h' }, h('h3', { id: 'rp-h' }, 'Reports (' + reports.length + ')'),
        h('ul', { class: 'plain' }, reports.map((r) => h('li', null,
          h('span', { class: 'outlet' }, r.source || 'unknown outlet'), ' · ', dated(r.published_at, r),
          ' · ', r.title || r.file || r.id))))));
  }

  // -- the map --

  function placeOf(d) {
    const r = d.roles || {};
    const at = (id, extra) => ({ ...S.places[id], label: entName(id), ...extra });
    if (r.location && S.places[r.location]) return at(r.location);
    const counts = new Map();
    for (const c of d.claims || []) {
      const l = c.roles && c.roles.location;
      if (l && S.places[l]) counts.set(l, (counts.get(l) || 0) + 1);
    }
    const best = [...counts].sort((a, b) => b[1] - a[1])[0];
    if (best) return at(best[0]);
    if (r.target && S.places[r.target]) return at(r.target);
    if (r.actor && S.places[r.actor]) return at(r.actor, { approximate: true });
    return null;
  }

  async function loadWorld() {
    if (S.world) return;
    try {
      const r = await fetch('board/assets/world.json');
      S.world = await r.json();
      if (S.view === 'map') renderSoon(true);
    } catch (err) {
      S.world = [];
    }
  }

  function renderMap(main, r) {
    if (!S.world) loadWorld();
    const focus = r.q.get('focus');
    const byPlace = new Map();
    const unplaced = [];
    for (const d of S.devs.values()) {
      if (!d.status) continue;
      const at = placeOf(d);
      if (!at) { unplaced.push(d); continue; }
      const key = at.lat.toFixed(2) + ',' + at.lon.toFixed(2);
      if (!byPlace.has(key)) byPlace.set(key, { at, devs: [] });
      byPlace.get(key).devs.push(d);
    }
    const pts = [...byPlace.values()];
    let view = [-180, -85, 360, 170];
    const fit = r.q.get('world') !== '1';
    const focused = focus ? pts.find((p) => p.devs.some((d) => d.id === focus)) : null;
    if (fit && pts.length) {
      const exact = pts.filter((p) => !p.at.approximate);
      // A country's mark for an actor gives context when there is little else.
      const sel = focused ? [focused] : (exact.length >= 2 ? exact : pts);
      let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
      for (const p of sel) {
        x0 = Math.min(x0, p.at.lon); x1 = Math.max(x1, p.at.lon);
        y0 = Math.min(y0, -p.at.lat); y1 = Math.max(y1, -p.at.lat);
      }
      let w = Math.max(x1 - x0, 24) * 1.3;
      let hgt = Math.max(y1 - y0, 12) * 1.3;
      if (w / hgt > 2) hgt = w / 2; else w = hgt * 2;
      const cx = (x0 + x1) / 2;
      const cy = (y0 + y1) / 2;
      view = [cx - w / 2, cy - hgt / 2, w, hgt];
    }
    const unit = view[2] / 160;
    const map = svg('svg', {
      viewBox: view.join(' '), class: 'map', role: 'group', 'aria-labelledby': 'map-h',
      preserveAspectRatio: 'xMidYMid meet',
    });
    const land = svg('g', { class: 'land', 'aria-hidden': 'true' });
    for (const c of S.world || []) land.append(svg('path', { d: c.d, 'data-name': c.name }));
    map.append(svg('rect', { x: -540, y: -270, width: 1080, height: 540, class: 'sea', 'aria-hidden': 'true' }), land);
    const marks = svg('g', { class: 'marks' });
    const order = (p) => Math.max(...p.devs.map((d) => d._moved));
    pts.sort((a, b) => order(a) - order(b));
    // Labels where they fit: the places with most developments first, each to the right
    // of its mark or else to the left, none over another; a country's hollow mark for an
    // actor is named only in its title and in the list below.
    const placed = [];
    const labels = new Map();
    if (pts.length <= 40) {
      const size = unit * 2.4;
      for (const p of pts.slice().sort((a, b) => b.devs.length - a.devs.length)) {
        if (p.at.approximate) continue;
        const text = p.at.label + (p.devs.length > 1 ? ' (' + p.devs.length + ')' : '');
        const w = text.length * size * 0.55;
        const y = -p.at.lat - size * 0.8;
        for (const x of [p.at.lon + unit * 2, p.at.lon - unit * 2 - w]) {
          const box = { x, y, w, h: size * 1.1 };
          const clash = placed.some((o) => box.x < o.x + o.w && o.x < box.x + box.w
            && box.y < o.y + o.h && o.y < box.y + box.h);
          if (!clash) {
            placed.push(box);
            labels.set(p, { x, y: -p.at.lat + unit * 0.6, text, size });
            break;
          }
        }
      }
    }
    for (const p of pts) {
      const latest = p.devs.reduce((a, d) => (d._moved > a._moved ? d : a), p.devs[0]);
      const label = p.at.label + ' (' + p.at.place + ', ' + p.at.country + '): '
        + p.devs.map((d) => d.kind + ' ' + d.status).join(', ');
      const a = svg('a', {
        href: p.devs.length === 1 ? devHref(p.devs[0].id) : '#/map?focus=' + encodeURIComponent(p.devs[0].id),
        class: 'mark', 'aria-label': label,
      });
      const t = svg('title');
      t.textContent = label;
      a.append(t, svg('circle', {
        cx: p.at.lon, cy: -p.at.lat, r: unit * (1 + Math.min(p.devs.length, 6) * 0.25),
        class: 'm-' + latest.status + (p.at.approximate ? ' approx' : '') + (focused === p ? ' focused' : ''),
      }));
      const l = labels.get(p);
      if (l) {
        const txt = svg('text', { x: l.x, y: l.y, 'font-size': l.size });
        txt.textContent = l.text;
        a.append(txt);
      }
      marks.append(a);
    }
    map.append(marks);
    put(main, 
      h('h2', { tabindex: '-1', id: 'map-h' }, 'Map'),
      h('p', { class: 'map-tools' },
        fit ? h('a', { href: '#/map?world=1' }, 'Whole world') : h('a', { href: '#/map' }, 'Fit to the developments'),
        ' · ', pts.length + ' places, ', unplaced.length + ' developments without a known place'),
      h('div', { class: 'map-wrap' }, map),
      h('p', { class: 'attribution' }, 'Places: GeoNames (CC BY 4.0). Outlines: Natural Earth. Drawn in the browser; no tiles.'),
      h('section', { 'aria-labelledby': 'pl-h' }, h('h3', { id: 'pl-h' }, 'By place'),
        h('ul', { class: 'plain places' }, pts.slice().reverse().map((p) => h('li', {
          class: p === focused ? 'focused' : null, tabindex: p === focused ? '-1' : null,
        },
          h('strong', null, p.at.label), ' (' + p.at.place + ', ' + p.at.country
            + (p.at.approximate ? '; the actor’s country' : '') + ')',
          h('ul', null, p.devs.map((d) => h('li', null, statusBadge(d.status), ' ',
            h('a', { href: devHref(d.id), class: 'row' }, title(d))))))))),
      unplaced.length ? h('section', { 'aria-labelledby': 'np-h' },
        h('h3', { id: 'np-h' }, 'Without a known place'),
        h('ul', { class: 'plain' }, unplaced.slice(0, 300).map((d) => h('li', null, statusBadge(d.status), ' ',
          h('a', { href: devHref(d.id), class: 'row' }, title(d)))))) : null);
    const place = main.querySelector('ul.places li.focused');
    if (place) setTimeout(() => place.focus(), 0);
  }

  // ---- keyboard -------------------------------------------------------------------------

  function items() {
    return [...document.querySelectorAll('#main a.row, #main svg a.mark')]
      .filter((a) => a.offsetParent !== null || a instanceof SVGElement);
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
    if (typing) {
      if (e.key === 'Escape') t.blur();
      if (e.key === 'ArrowDown' && t.type === 'search') {
        const first = items()[0];
        if (first) { e.preventDefault(); first.focus(); }
      }
      return;
    }
    if (document.getElementById('help').open) return;
    const move = (step) => {
      const list = items();
      if (!list.length) return;
      const i = list.indexOf(document.activeElement);
      const next = list[Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + step))];
      e.preventDefault();
      next.focus();
    };
    switch (e.key) {
      case 'j': case 'ArrowDown': move(1); break;
      case 'k': case 'ArrowUp': move(-1); break;
      case '/': {
        const s = document.querySelector('#main input[type=search]');
        if (s) { e.preventDefault(); s.focus(); }
        break;
      }
      case '1': location.hash = '#/'; break;
      case '2': location.hash = '#/entities'; break;
      case '3': location.hash = '#/map'; break;
      case '?': document.getElementById('help').showModal(); break;
      case 'Escape': {
        const r = route();
        if (r.view === 'dev') location.hash = S.listHash || '#/';
        else if (r.view === 'ent') location.hash = '#/entities';
        break;
      }
      default:
    }
  }

  // ---- start ----------------------------------------------------------------------------

  async function start() {
    takeTokenFromAddress();
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', () => renderSoon());
    document.getElementById('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, document.getElementById('token-input').value);
      document.getElementById('token-form').hidden = true;
      boot();
    });
    boot();
  }

  async function boot() {
    setConn('connecting', 'Connecting');
    try {
      const snap = await api('situation');
      performance.mark('sitrep:snapshot');
      loadSnapshot(snap);
    } catch (err) {
      if (err instanceof AuthNeeded) return;
      setConn('reconnecting', 'Daemon unreachable, retrying');
      setTimeout(boot, Math.min(250 * 2 ** S.attempt++, MAX_BACKOFF));
      return;
    }
    render();
    connect();
    placesSoon(0);
    if (route().view === 'map') loadWorld();
  }

  // Read by the end-to-end tests and the benchmark, never by the page itself.
  window.sitrepBoard = {
    state: S,
    changed: (id) => { const d = S.devs.get(id); if (d) derive(d); renderSoon(true); },
  };
  start();
})();
