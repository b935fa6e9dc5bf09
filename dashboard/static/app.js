// Teller dashboard: the realtime counter, copy buttons, closing menus and the filter dialog's suggestions.
// Everything works without it.
(function () {
  'use strict';

  function refreshRealtime() {
    var counter = document.getElementById('realtime');
    if (!counter) return;
    fetch(counter.getAttribute('data-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var number = data.visitors.toLocaleString(document.documentElement.lang || 'en');
        var text = counter.getAttribute(data.visitors === 1 ? 'data-one' : 'data-other') || '{n}';
        counter.textContent = text.replace('{n}', number);
        counter.setAttribute('data-value', data.visitors);
      })
      .catch(function () {});
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    var status = button.parentNode.querySelector('.copied');
    if (!source) return;
    function done() { if (status) status.textContent = button.getAttribute('data-copied') || 'Copied.'; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(done);
      return;
    }
    // Plain http on a host name is no secure context: select the text and copy the old way.
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (document.execCommand('copy')) done();
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.copy');
    if (button) copy(button);
    document.querySelectorAll('details.menu[open]').forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute('open');
    });
  });

  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    document.querySelectorAll('details.menu[open]').forEach(function (menu) {
      menu.removeAttribute('open');
      menu.querySelector('summary').focus();
    });
  });

  if (document.getElementById('realtime')) setInterval(refreshRealtime, 30000);
  // Imports page: send the zip as the request body, then poll the import's progress. Its texts come
  // translated in the form's data-text-* attributes, with {n} and {error} to fill in.
  function say(name, values) {
    var form = document.getElementById('import-form');
    var text = (form && form.getAttribute('data-text-' + name)) || name;
    Object.keys(values || {}).forEach(function (key) { text = text.replace('{' + key + '}', values[key]); });
    return text;
  }

  function showImport(status, bar, text, percent) {
    status.textContent = text;
    if (percent !== null) { bar.hidden = false; bar.value = percent; bar.textContent = percent + '%'; }
  }

  function pollImport(url, status, bar) {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (answer) {
        var data = answer[1];
        if (!answer[0]) { showImport(status, bar, say('unavailable', { error: data.error }), null); return; }
        var percent = data.total ? Math.round(100 * data.done / data.total) : 0;
        if (data.state === 'running') {
          showImport(status, bar, say('importing', { n: percent }), percent);
          setTimeout(function () { pollImport(url, status, bar); }, 500);
        } else if (data.state === 'done') {
          showImport(status, bar, say('imported', { n: data.rows.toLocaleString(document.documentElement.lang || 'en') }), 100);
          setTimeout(function () { window.location.reload(); }, 800);
        } else {
          showImport(status, bar, say('failed', { error: data.error }), null);
        }
      })
      .catch(function () { showImport(status, bar, say('lost'), null); });
  }

  var importForm = document.getElementById('import-form');
  if (importForm) {
    importForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var file = document.getElementById('import-file').files[0];
      var status = document.getElementById('import-status');
      var bar = document.getElementById('import-progress');
      if (!file) return;
      var request = new XMLHttpRequest();
      request.open('POST', importForm.getAttribute('data-url'));
      request.setRequestHeader('Content-Type', 'application/zip');
      request.setRequestHeader('X-CSRF-Token', importForm.getAttribute('data-csrf'));
      request.setRequestHeader('X-File-Name', file.name);
      request.upload.onprogress = function (progress) {
        if (progress.lengthComputable) {
          showImport(status, bar, say('uploading', { n: Math.round(100 * progress.loaded / progress.total) }),
            Math.round(100 * progress.loaded / progress.total));
        }
      };
      request.onload = function () {
        var data = {};
        try { data = JSON.parse(request.responseText); } catch (ignored) { data = { error: request.statusText }; }
        if (request.status === 202) { pollImport(data.progress, status, bar); } else {
          showImport(status, bar, say('refused', { error: data.error }), null);
        }
      };
      request.onerror = function () { showImport(status, bar, say('upload-failed'), null); };
      request.send(file);
    });
  }

  var MAX_VALUES = 20;

  function valueInputs(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input.filter-value'));
  }

  function addValueInput(form, value) {
    var inputs = valueInputs(form);
    if (inputs.length >= MAX_VALUES) return null;
    var input = inputs[0].cloneNode(false);
    input.value = value || '';
    input.setAttribute('aria-label', 'Value ' + (inputs.length + 1));
    form.querySelector('#filter-value-list').appendChild(input);
    return input;
  }

  function useSuggestion(form, value) {
    var inputs = valueInputs(form);
    if (inputs.some(function (input) { return input.value === value; })) return;
    var empty = inputs.filter(function (input) { return !input.value.trim(); })[0];
    var target = empty || addValueInput(form, '');
    if (!target) return;
    target.value = value;
    target.focus();
  }

  function showSuggestions(form, values) {
    var datalist = document.getElementById('filter-suggestions');
    var list = document.getElementById('filter-suggestion-list');
    var box = document.getElementById('filter-suggestion-box');
    datalist.textContent = '';
    list.textContent = '';
    values.forEach(function (item) {
      if (item.value === '' || item.value === null) return;
      var option = document.createElement('option');
      option.value = item.value;
      datalist.appendChild(option);
      var entry = document.createElement('li');
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'suggestion link-button';
      button.setAttribute('data-value', item.value);
      button.textContent = item.value + ' (' + Number(item.visitors).toLocaleString('en') + ')';
      button.addEventListener('click', function () { useSuggestion(form, item.value); });
      entry.appendChild(button);
      list.appendChild(entry);
    });
    box.hidden = !list.children.length;
  }

  var pending = null;
  function loadSuggestions(form, search) {
    var params = new URLSearchParams();
    form.querySelectorAll('input[type=hidden]').forEach(function (input) { params.append(input.name, input.value); });
    params.set('key', form.querySelector('#filter-dimension').value);
    if (search) params.set('q', search);
    var url = form.getAttribute('data-suggestions') + '?' + params.toString();
    pending = url;
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && pending === url) showSuggestions(form, data.values); })
      .catch(function () {});
  }

  var filterForm = document.getElementById('filter-form');
  if (filterForm) {
    var addButton = document.getElementById('filter-add-value');
    addButton.hidden = false;
    addButton.addEventListener('click', function () {
      var input = addValueInput(filterForm, '');
      if (input) input.focus();
    });
    filterForm.querySelector('#filter-dimension').addEventListener('change', function () { loadSuggestions(filterForm, ''); });
    var timer = null;
    filterForm.addEventListener('input', function (event) {
      if (!event.target.classList.contains('filter-value')) return;
      clearTimeout(timer);
      timer = setTimeout(function () { loadSuggestions(filterForm, event.target.value.trim()); }, 200);
    });
    var menu = document.getElementById('filter-menu');
    menu.addEventListener('toggle', function () {
      if (!menu.open) return;
      filterForm.querySelector('#filter-dimension').focus();
      loadSuggestions(filterForm, '');
    });
  }
})();
