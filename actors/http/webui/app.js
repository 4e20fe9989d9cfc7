// mesoscaf web UI: reads the master's JSON endpoints (docs/HTTP.md) every two seconds and renders the cluster's
// totals, its agents, frameworks, tasks and roles; a task's sandbox viewer tails stdout/stderr straight from the
// agent's /files/read (agents answer with Access-Control-Allow-Origin: *). Hash routes keep every view linkable:
//   #/  #/agents  #/frameworks  #/tasks  #/roles  #/tasks/<framework_id>/<task_id>
// Plain DOM, no framework: data goes in through textContent only, never as HTML.
'use strict';

(function () {
  const POLL_MS = 2000;
  const TAIL_START_BYTES = 64 * 1024;  // how much of an existing file the viewer shows when it opens
  const READ_CHUNK_BYTES = 64 * 1024;
  const MAX_CHUNKS_PER_POLL = 16;      // a fast writer cannot keep one poll reading forever
  const MAX_OUTPUT_CHARS = 1024 * 1024; // the viewer keeps the end of a long output
  const MAX_ROWS = 1000;                // rows rendered per table; the filter narrows the rest
  const TASK_LISTS = ['tasks', 'unreachable_tasks', 'completed_tasks'];

  const model = {state: null, metrics: null, roles: null};
  const filters = {agents: '', frameworks: '', tasks: '', roles: ''};
  const sorting = {};   // table name -> {column index, ascending}
  let route = parseRoute();
  let viewer = null;    // the open sandbox viewer's tailing state

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function getJSON(url) {
    const response = await fetch(url, {cache: 'no-store'});
    if (!response.ok) throw new Error(url.replace(/\?.*/, '') + ': HTTP ' + response.status);
    return response.json();
  }

  function number(value) {
    return typeof value === 'number' && isFinite(value) ? value : 0;
  }

  function formatCpus(value) {
    return (Math.round(number(value) * 100) / 100).toString();
  }

  // Mesos counts mem and disk in MB.
  function formatMB(value) {
    const mb = number(value);
    if (mb >= 1024 * 1024) return (mb / 1024 / 1024).toFixed(1) + ' TB';
    if (mb >= 1024) return (mb / 1024).toFixed(1) + ' GB';
    return Math.round(mb) + ' MB';
  }

  function formatResource(name, value) {
    return name === 'mem' || name === 'disk' ? formatMB(value) : formatCpus(value);
  }

  function formatBytes(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + ' MiB';
    if (bytes >= 1024) return (bytes / 1024).toFixed(1) + ' KiB';
    return bytes + ' B';
  }

  function formatTime(seconds) {
    if (!seconds) return '';
    const d = new Date(seconds * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' +
           pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function formatDuration(seconds) {
    seconds = Math.floor(number(seconds));
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + s + 's';
    return s + 's';
  }

  function stateBadge(state) {
    return el('span', {class: 'state ' + (state || ''), text: (state || 'unknown').replace(/^TASK_/, '')});
  }

  function yesNo(flag) {
    return el('span', {class: flag ? 'flag-yes' : 'flag-no', text: flag ? 'yes' : 'no'});
  }

  function taskHref(frameworkId, taskId) {
    return '#/tasks/' + encodeURIComponent(frameworkId) + '/' + encodeURIComponent(taskId);
  }

  // The agent's own HTTP server, as the master's /state names it.
  function agentBaseUrl(slave) {
    const host = String(slave.address || slave.hostname || '');
    const port = slave.http_port || slave.port;
    return location.protocol + '//' + (host.includes(':') ? '[' + host + ']' : host) + ':' + port;
  }

  // ---------------------------------------------------------------- the master's data

  function allFrameworks(state) {
    return [...(state.frameworks || []), ...(state.completed_frameworks || [])];
  }

  // Every task the master knows, live ones first.
  function allTasks(state) {
    const tasks = [];
    for (const fw of allFrameworks(state))
      for (const list of TASK_LISTS)
        for (const task of fw[list] || []) tasks.push(task);
    for (const task of state.orphan_tasks || []) tasks.push(task);
    return tasks;
  }

  function slavesById(state) {
    const byId = new Map();
    for (const slave of state.slaves || []) byId.set(slave.id, slave);
    return byId;
  }

  function findTask(state, frameworkId, taskId) {
    for (const task of allTasks(state))
      if (task.id === taskId && task.framework_id === frameworkId) return task;
    return null;
  }

  function isLive(task) {
    return /^TASK_(STAGING|STARTING|RUNNING|KILLING)$/.test(task.state) ? 1 : 0;
  }

  // When the task's first status was recorded: its launch for the table's order.
  function taskStartTime(task) {
    const times = (task.statuses || []).map((s) => number(s.timestamp)).filter((t) => t > 0);
    return times.length ? Math.min(...times) : 0;
  }

  function sumResources(slaves, field) {
    const sum = {cpus: 0, mem: 0, disk: 0, gpus: 0};
    for (const slave of slaves)
      for (const name of Object.keys(sum)) sum[name] += number((slave[field] || {})[name]);
    return sum;
  }

  // Task counts by state: the master's counters when it has them (they outlive trimmed completed lists).
  function taskStateCounts(state, metrics) {
    const counts = new Map();
    const fromMetrics = Object.keys(metrics || {}).filter((k) => /^master\/tasks_[a-z_]+$/.test(k));
    if (fromMetrics.length) {
      for (const key of fromMetrics)
        counts.set('TASK_' + key.slice('master/tasks_'.length).toUpperCase(), number(metrics[key]));
    } else {
      for (const task of allTasks(state)) counts.set(task.state, (counts.get(task.state) || 0) + 1);
    }
    return counts;
  }

  // ---------------------------------------------------------------- routes

  function parseRoute() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p.length).map(decodeURIComponent);
    if (parts[0] === 'tasks' && parts.length >= 3)
      return {view: 'tasks', frameworkId: parts[1], taskId: parts.slice(2).join('/')};
    const views = ['agents', 'frameworks', 'tasks', 'roles'];
    return {view: views.includes(parts[0]) ? parts[0] : 'overview'};
  }

  function onRouteChange() {
    route = parseRoute();
    for (const link of document.querySelectorAll('#nav a'))
      link.classList.toggle('active', link.dataset.view === route.view);
    if (!route.taskId || !viewer || viewer.frameworkId !== route.frameworkId || viewer.taskId !== route.taskId)
      viewer = route.taskId ? newViewer(route.frameworkId, route.taskId) : null;
    buildView();
    renderAll();
    if (viewer) tailSandbox();
  }

  // ---------------------------------------------------------------- tables

  // Each table: its columns (title, the cell for a row, the value it sorts by) and where its rows come from.
  const tables = {
    agents: {
      title: 'Agents',
      rows: (state) => state.slaves || [],
      rowAttrs: (slave) => ({'data-agent-id': slave.id}),
      columns: [
        {title: 'ID', mono: true, cell: (s) => s.id},
        {title: 'Host', cell: (s) => s.hostname + (s.address && s.address !== s.hostname ? ' (' + s.address + ')' : '')},
        {title: 'HTTP', mono: true, cell: (s) => s.address ? agentBaseUrl(s).replace(/^https?:\/\//, '') : ''},
        {title: 'CPUs used', num: true, cell: (s) => usedOfTotal(s, 'cpus'), sort: (s) => number((s.used_resources || {}).cpus)},
        {title: 'Mem used', num: true, cell: (s) => usedOfTotal(s, 'mem'), sort: (s) => number((s.used_resources || {}).mem)},
        {title: 'Disk used', num: true, cell: (s) => usedOfTotal(s, 'disk'), sort: (s) => number((s.used_resources || {}).disk)},
        {title: 'Active', cell: (s) => yesNo(s.active), sort: (s) => (s.active ? 1 : 0)},
        {title: 'Registered', cell: (s) => formatTime(s.registered_time), sort: (s) => number(s.registered_time)},
      ],
    },
    frameworks: {
      title: 'Frameworks',
      rows: (state) => [...(state.frameworks || []),
                        ...(state.completed_frameworks || []).map((fw) => Object.assign({completed: true}, fw))],
      rowAttrs: (fw) => ({'data-framework-id': fw.id}),
      columns: [
        {title: 'ID', mono: true, cell: (f) => f.id},
        {title: 'Name', cell: (f) => f.name},
        {title: 'Role', cell: (f) => (f.roles && f.roles.length ? f.roles.join(', ') : f.role || '')},
        {title: 'User', cell: (f) => f.user},
        {title: 'Status', cell: (f) => (f.completed ? 'completed' : f.active ? 'active' : f.connected ? 'inactive' : 'disconnected')},
        {title: 'Tasks', num: true, cell: (f) => (f.tasks || []).length},
        {title: 'CPUs', num: true, cell: (f) => formatCpus((f.used_resources || {}).cpus), sort: (f) => number((f.used_resources || {}).cpus)},
        {title: 'Mem', num: true, cell: (f) => formatMB((f.used_resources || {}).mem), sort: (f) => number((f.used_resources || {}).mem)},
        {title: 'Registered', cell: (f) => formatTime(f.registered_time), sort: (f) => number(f.registered_time)},
      ],
    },
    tasks: {
      title: 'Tasks',
      rows: (state) => allTasks(state).sort((a, b) => (isLive(b) - isLive(a)) || taskStartTime(b) - taskStartTime(a)),
      rowAttrs: (t) => ({'data-task-id': t.id, 'data-framework-id': t.framework_id, 'data-state': t.state,
                         class: route.taskId === t.id && route.frameworkId === t.framework_id ? 'selected' : null}),
      columns: [
        {title: 'ID', mono: true, cell: (t) => el('a', {href: taskHref(t.framework_id, t.id), text: t.id}), sort: (t) => t.id},
        {title: 'Name', cell: (t) => t.name},
        {title: 'State', cell: (t) => stateBadge(t.state), sort: (t) => t.state},
        {title: 'Framework', mono: true, cell: (t) => t.framework_id},
        {title: 'Agent', cell: (t) => agentName(t.slave_id), sort: (t) => agentName(t.slave_id)},
        {title: 'CPUs', num: true, cell: (t) => formatCpus((t.resources || {}).cpus), sort: (t) => number((t.resources || {}).cpus)},
        {title: 'Mem', num: true, cell: (t) => formatMB((t.resources || {}).mem), sort: (t) => number((t.resources || {}).mem)},
        {title: 'Started', cell: (t) => formatTime(taskStartTime(t)), sort: taskStartTime},
      ],
    },
    roles: {
      title: 'Roles',
      rows: () => (model.roles && model.roles.roles) || [],
      rowAttrs: (r) => ({'data-role': r.name}),
      columns: [
        {title: 'Role', cell: (r) => r.name},
        {title: 'Weight', num: true, cell: (r) => number(r.weight), sort: (r) => number(r.weight)},
        {title: 'Frameworks', num: true, cell: (r) => (r.frameworks || []).length},
        {title: 'Allocated', cell: (r) => resourceText(r.allocated || r.resources)},
        {title: 'Reserved', cell: (r) => resourceText(r.reserved)},
        {title: 'Quota guarantee', cell: (r) => resourceText((r.quota || {}).guarantee)},
        {title: 'Quota limit', cell: (r) => resourceText((r.quota || {}).limit)},
      ],
    },
  };

  function usedOfTotal(slave, name) {
    return formatResource(name, (slave.used_resources || {})[name]) + ' / ' +
           formatResource(name, (slave.resources || {})[name]);
  }

  function agentName(slaveId) {
    const slave = model.state && slavesById(model.state).get(slaveId);
    return slave ? slave.hostname || slave.address || slaveId : slaveId || '';
  }

  function resourceText(resources) {
    if (!resources) return '';
    return Object.entries(resources)
        .filter(([, value]) => typeof value === 'string' ? value.length && value !== '[]' : number(value) !== 0)
        .map(([name, value]) => name + ': ' + (typeof value === 'number' ? formatResource(name, value) : value))
        .join(', ');
  }

  function cellText(cell) {
    return cell instanceof Node ? cell.textContent : String(cell === undefined || cell === null ? '' : cell);
  }

  function tablePanel(name) {
    const table = tables[name];
    const filter = el('input', {
      type: 'search', id: 'filter-' + name, placeholder: 'Filter ' + table.title.toLowerCase() + '…',
      'aria-label': 'Filter ' + table.title.toLowerCase(),
      oninput: (e) => { filters[name] = e.target.value; renderTable(name); },
    });
    filter.value = filters[name];
    const head = el('tr', {}, table.columns.map((column, index) => el('th', {
      class: column.num ? 'num' : null, text: column.title,
      onclick: () => {
        const current = sorting[name];
        sorting[name] = {index, ascending: current && current.index === index ? !current.ascending : true};
        renderTable(name);
      },
    })));
    return el('section', {class: 'panel', id: name + '-panel'},
              el('div', {class: 'panel-head'}, el('h2', {text: table.title}),
                 el('span', {class: 'count', id: name + '-count'}), filter),
              el('div', {class: 'table-wrap'},
                 el('table', {id: name + '-table'}, el('thead', {}, head), el('tbody', {id: name + '-body'}))));
  }

  function renderTable(name) {
    const body = document.getElementById(name + '-body');
    if (!body || !model.state) return;
    const table = tables[name];
    let rows = table.rows(model.state);
    const total = rows.length;
    const needle = filters[name].trim().toLowerCase();
    if (needle) {
      rows = rows.filter((row) => table.columns.some((c) => cellText(c.cell(row)).toLowerCase().includes(needle)) ||
                                  Object.values(table.rowAttrs(row)).some((v) => String(v || '').toLowerCase().includes(needle)));
    }
    const sort = sorting[name];
    if (sort) {
      const column = table.columns[sort.index];
      const key = column.sort || ((row) => cellText(column.cell(row)));
      rows = rows.slice().sort((a, b) => {
        const x = key(a), y = key(b);
        const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return sort.ascending ? order : -order;
      });
    }
    const headers = document.querySelectorAll('#' + name + '-table th');
    headers.forEach((th, index) => {
      th.classList.toggle('sorted', !!sort && sort.index === index);
      th.classList.toggle('asc', !!sort && sort.index === index && sort.ascending);
    });
    const shown = rows.slice(0, MAX_ROWS);
    const trs = shown.map((row) => el('tr', table.rowAttrs(row), table.columns.map(
        (column) => el('td', {class: column.mono ? 'mono' : column.num ? 'num' : null}, column.cell(row)))));
    if (!trs.length)
      trs.push(el('tr', {}, el('td', {class: 'empty', colspan: table.columns.length,
                                      text: total ? 'No ' + table.title.toLowerCase() + ' match the filter.' :
                                                    'No ' + table.title.toLowerCase() + '.'})));
    body.replaceChildren(...trs);
    let count = needle ? rows.length + ' of ' + total : String(total);
    if (rows.length > shown.length) count += ' (first ' + MAX_ROWS + ' shown)';
    document.getElementById(name + '-count').textContent = count;
  }

  // ---------------------------------------------------------------- totals

  function renderTotals() {
    const totals = document.getElementById('totals');
    const state = model.state;
    if (!state) return;
    const metrics = model.metrics || {};
    const slaves = state.slaves || [];
    const total = sumResources(slaves, 'resources');
    const used = sumResources(slaves, 'used_resources');
    const offered = sumResources(slaves, 'offered_resources');

    const activeAgents = slaves.filter((s) => s.active).length;
    const agentsCard = el('div', {class: 'card', id: 'total-agents'}, el('h3', {text: 'Agents'}),
                          el('div', {class: 'big', text: activeAgents}),
                          el('div', {class: 'sub', text: (slaves.length - activeAgents) + ' inactive, ' +
                                                         number(state.unreachable_slaves) + ' unreachable'}));

    const frameworks = state.frameworks || [];
    const activeFrameworks = frameworks.filter((f) => f.active).length;
    const frameworksCard = el('div', {class: 'card', id: 'total-frameworks'}, el('h3', {text: 'Frameworks'}),
                              el('div', {class: 'big', text: activeFrameworks}),
                              el('div', {class: 'sub', text: (frameworks.length - activeFrameworks) + ' inactive, ' +
                                                             (state.completed_frameworks || []).length + ' completed'}));

    const counts = taskStateCounts(state, model.metrics);
    const running = counts.get('TASK_RUNNING') || 0;
    const chips = [...counts.entries()].filter(([s, n]) => n > 0 && s !== 'TASK_RUNNING').sort()
                      .map(([s, n]) => el('span', {'data-state': s}, stateBadge(s), ' ' + n));
    const tasksCard = el('div', {class: 'card', id: 'total-tasks'}, el('h3', {text: 'Tasks running'}),
                         el('div', {class: 'big', text: running}),
                         el('div', {class: 'states'}, chips.length ? chips : el('span', {class: 'sub', text: 'no other tasks'})));

    const rows = ['cpus', 'mem', 'disk', 'gpus'].filter((name) => name !== 'gpus' || total.gpus > 0).map((name) => {
      const all = total[name];
      const pct = (v) => (all > 0 ? Math.min(100, v / all * 100) : 0) + '%';
      return el('div', {class: 'resource-row', 'data-resource': name},
                el('span', {class: 'name', text: name}),
                el('div', {class: 'bar', title: 'used ' + formatResource(name, used[name]) + ', offered ' +
                                                formatResource(name, offered[name])},
                   el('span', {class: 'used', style: 'width:' + pct(used[name])}),
                   el('span', {class: 'offered', style: 'width:' + pct(offered[name])})),
                el('span', {class: 'numbers', text: formatResource(name, used[name]) + ' used · ' +
                                                    formatResource(name, offered[name]) + ' offered · ' +
                                                    formatResource(name, all) + ' total'}));
    });
    const resourcesCard = el('div', {class: 'card resources', id: 'total-resources'}, el('h3', {text: 'Resources'}),
                             el('div', {class: 'resource-grid'}, rows),
                             el('div', {class: 'legend'}, el('i', {style: 'background:var(--bar-used)'}), 'used',
                                el('i', {style: 'background:var(--bar-offered)'}), 'offered',
                                el('i', {style: 'background:#e9edf1'}), 'idle'));
    totals.replaceChildren(agentsCard, frameworksCard, tasksCard, resourcesCard);

    const info = [state.pid || '', state.version ? 'v' + state.version : ''];
    if ('master/uptime_secs' in metrics) info.push('up ' + formatDuration(metrics['master/uptime_secs']));
    if ('master/elected' in metrics && !metrics['master/elected']) info.push('not elected');
    document.getElementById('master-info').textContent = info.filter((s) => s).join('  ·  ');
  }

  // ---------------------------------------------------------------- sandbox viewer

  function newViewer(frameworkId, taskId) {
    return {
      frameworkId, taskId, agentUrl: null, directory: null, sandboxDir: null, status: 'Looking for the task…',
      error: false, busy: false,
      files: {stdout: newTail('stdout'), stderr: newTail('stderr')},
    };
  }

  function newTail(name) {
    return {name, offset: null, text: '', skipped: 0, missing: false};
  }

  function viewerPanel() {
    const close = el('a', {class: 'close', href: '#/tasks', text: 'Close ✕'});
    const output = (name) => el('div', {class: 'output'},
                                el('h3', {}, name, el('span', {class: 'meta', id: 'sandbox-' + name + '-meta'}),
                                   el('a', {class: 'meta', id: 'sandbox-' + name + '-download', text: 'download'})),
                                el('pre', {class: name, id: 'sandbox-' + name}));
    return el('section', {class: 'panel sandbox', id: 'sandbox-panel'},
              el('div', {class: 'panel-head'}, el('h2', {id: 'sandbox-title'}), close),
              el('div', {class: 'panel-body'},
                 el('div', {class: 'sandbox-status', id: 'sandbox-status'}),
                 el('dl', {id: 'sandbox-info'}),
                 el('div', {class: 'outputs'}, output('stdout'), output('stderr'))));
  }

  function renderViewer() {
    if (!viewer || !document.getElementById('sandbox-panel')) return;
    const task = model.state && findTask(model.state, viewer.frameworkId, viewer.taskId);
    document.getElementById('sandbox-title').replaceChildren('Sandbox of task ', el('code', {text: viewer.taskId}));
    const status = document.getElementById('sandbox-status');
    status.textContent = viewer.status;
    status.classList.toggle('error', viewer.error);
    const info = [['Framework', viewer.frameworkId]];
    if (task) info.push(['State', task.state], ['Agent', agentName(task.slave_id)]);
    if (viewer.sandboxDir) info.push(['Directory', viewer.sandboxDir]);
    document.getElementById('sandbox-info').replaceChildren(...info.flatMap(([k, v]) => [el('dt', {text: k}), el('dd', {text: v})]));
    for (const file of Object.values(viewer.files)) {
      const pre = document.getElementById('sandbox-' + file.name);
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      const text = (file.skipped ? '[… ' + formatBytes(file.skipped) + ' earlier output not shown …]\n' : '') + file.text;
      if (pre.textContent !== text) {
        pre.textContent = text;
        if (atBottom) pre.scrollTop = pre.scrollHeight;   // follow the output unless the reader scrolled up
      }
      document.getElementById('sandbox-' + file.name + '-meta').textContent =
          file.missing ? 'not written yet' : file.offset === null ? '' : formatBytes(file.offset);
      const download = document.getElementById('sandbox-' + file.name + '-download');
      if (viewer.agentUrl && viewer.sandboxDir)
        download.href = viewer.agentUrl + '/files/download?path=' + encodeURIComponent(viewer.sandboxDir + '/' + file.name);
      download.hidden = !viewer.sandboxDir || file.missing;
    }
  }

  // The executor's directory for the task, from the agent's own /state.
  function executorDirectory(agentState, frameworkId, taskId) {
    const frameworks = [...(agentState.frameworks || []), ...(agentState.completed_frameworks || [])];
    for (const fw of frameworks) {
      if (fw.id !== frameworkId) continue;
      for (const executor of [...(fw.executors || []), ...(fw.completed_executors || [])])
        for (const list of ['tasks', 'queued_tasks', 'completed_tasks'])
          if ((executor[list] || []).some((t) => t.id === taskId)) return executor.directory;
    }
    return null;
  }

  function filesRead(path, offset, length) {
    let url = viewer.agentUrl + '/files/read?path=' + encodeURIComponent(path) + '&offset=' + offset;
    if (length !== undefined) url += '&length=' + length;
    return fetch(url, {cache: 'no-store'});
  }

  // Finds where the task's output lives: the command executor runs each task in <directory>/tasks/<task id>;
  // a custom executor's task writes to the executor's own directory.
  async function locateSandbox() {
    const task = findTask(model.state, viewer.frameworkId, viewer.taskId);
    if (!task) throw new Error('The master does not know task ' + viewer.taskId + ' of framework ' + viewer.frameworkId + '.');
    const slave = slavesById(model.state).get(task.slave_id);
    if (!slave) throw new Error('The task\'s agent ' + (task.slave_id || '(none yet)') + ' is not registered with the master.');
    viewer.agentUrl = agentBaseUrl(slave);
    const agentState = await getJSON(viewer.agentUrl + '/state');
    const directory = executorDirectory(agentState, viewer.frameworkId, viewer.taskId);
    if (!directory) throw new Error('The agent has no sandbox for this task (yet).');
    viewer.directory = directory;
    for (const candidate of [directory + '/tasks/' + viewer.taskId, directory]) {
      const response = await filesRead(candidate + '/stdout', -1);
      if (response.ok) {
        viewer.sandboxDir = candidate;
        return;
      }
    }
    throw new Error('No stdout in the task\'s sandbox ' + directory + ' (yet).');
  }

  // Mesos' tailing protocol: offset=-1 answers the file's size; then read forward from where we stopped.
  async function tailFile(file) {
    const path = viewer.sandboxDir + '/' + file.name;
    if (file.offset === null) {
      const response = await filesRead(path, -1);
      if (response.status === 404) {
        file.missing = true;
        return;
      }
      if (!response.ok) throw new Error(file.name + ': HTTP ' + response.status);
      const size = number((await response.json()).offset);
      file.missing = false;
      file.offset = Math.max(0, size - TAIL_START_BYTES);
      file.skipped = file.offset;
    }
    for (let i = 0; i < MAX_CHUNKS_PER_POLL; i++) {
      const response = await filesRead(path, file.offset, READ_CHUNK_BYTES);
      if (!response.ok) throw new Error(file.name + ': HTTP ' + response.status);
      const data = String((await response.json()).data || '');
      if (!data.length) break;
      let text = data;
      if (file.skipped && !file.text.length) {
        const newline = text.indexOf('\n');   // a tail starting mid-line starts at the next whole line
        if (newline >= 0 && newline < text.length - 1) text = text.slice(newline + 1);
      }
      // Offsets count bytes; the data arrives as UTF-8 text.
      file.offset += new TextEncoder().encode(data).length;
      file.text += text;
      if (file.text.length > MAX_OUTPUT_CHARS) {
        file.skipped += file.text.length - MAX_OUTPUT_CHARS;
        file.text = file.text.slice(file.text.length - MAX_OUTPUT_CHARS);
      }
      if (data.length < READ_CHUNK_BYTES / 4) break;   // caught up with the writer
    }
  }

  async function tailSandbox() {
    const current = viewer;
    if (!current || current.busy || !model.state) return;
    current.busy = true;
    try {
      if (!current.sandboxDir) {
        current.status = 'Looking for the task\'s sandbox…';
        await locateSandbox();
      }
      for (const file of Object.values(current.files)) await tailFile(file);
      if (current !== viewer) return;
      const task = findTask(model.state, current.frameworkId, current.taskId);
      current.status = task && isLive(task) ?
          'Following the output (every ' + POLL_MS / 1000 + ' s).' : 'The task has ended; its output is complete.';
      current.error = false;
    } catch (e) {
      if (current !== viewer) return;
      current.status = e.message || String(e);
      current.error = true;
    } finally {
      current.busy = false;
      if (current === viewer) renderViewer();
    }
  }

  // ---------------------------------------------------------------- views and polling

  function buildView() {
    const view = document.getElementById('view');
    const panels = [];
    if (route.view === 'overview') panels.push(...['agents', 'frameworks', 'tasks', 'roles'].map(tablePanel));
    else if (route.taskId) panels.push(viewerPanel(), tablePanel('tasks'));
    else panels.push(tablePanel(route.view));
    view.replaceChildren(...panels);
  }

  function renderAll() {
    renderTotals();
    for (const name of Object.keys(tables)) renderTable(name);
    renderViewer();
  }

  function setUpdateStatus(text, error) {
    const status = document.getElementById('update-status');
    status.textContent = text;
    status.classList.toggle('error', error);
  }

  async function poll() {
    try {
      const [state, metrics, roles] = await Promise.all([
        getJSON('state'),
        getJSON('metrics/snapshot').catch(() => null),   // optional: the totals fall back to /state
        getJSON('roles').catch(() => null),
      ]);
      model.state = state;
      model.metrics = metrics;
      model.roles = roles;
      renderAll();
      setUpdateStatus('updated ' + new Date().toLocaleTimeString(), false);
      if (viewer) await tailSandbox();
    } catch (e) {
      setUpdateStatus('master unreachable: ' + (e.message || e), true);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  window.addEventListener('hashchange', onRouteChange);
  onRouteChange();
  poll();
})();
