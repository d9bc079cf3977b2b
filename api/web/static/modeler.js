// The web modeler: bpmn-js's Modeler with Camunda's moddle extension (so camunda:topic, camunda:formKey …
// round-trip as Camunda Modeler writes them) and a small properties panel for exactly the fields this engine
// reads. Saving sends the XML to the server, which stores a new revision of the draft and answers with its
// validation and lint findings; they are listed under the diagram and marked on it. Deploy saves what is
// on the screen first and posts the revision the findings belong to; a revision with errors is not deployed.
(function () {
  'use strict';
  var page = JSON.parse(document.getElementById('modeler-data').textContent);
  var texts = page.texts;
  var csrf = document.querySelector('#deploy-form input[name=csrf_token]').value;
  var panel = document.getElementById('properties');
  var status = document.getElementById('status');
  var deployButton = document.getElementById('deploy');
  var canvasEl = document.getElementById('canvas');
  var revision = page.revision;
  var counts = page.counts;
  var dirty = false;
  var marked = [];
  var modeler;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // --- the properties panel -------------------------------------------------------------------------

  function field(label, input, hint) {
    var wrap = el('label', {}, [document.createTextNode(label), input]);
    if (hint) { wrap.appendChild(el('div', { 'class': 'hint', text: hint })); }
    return wrap;
  }

  function textInput(name, value, onChange) {
    var input = el('input', { type: 'text', name: name });
    input.value = value || '';
    input.addEventListener('change', function () { onChange(input.value.trim()); });
    return input;
  }

  function select(name, options, value, empty, onChange) {
    var node = el('select', { name: name });
    node.appendChild(el('option', { value: '', text: empty }));
    options.forEach(function (option) {
      node.appendChild(el('option', { value: option.value, text: option.label }));
    });
    if (value && !options.some(function (o) { return o.value === value; })) {
      node.appendChild(el('option', { value: value, text: value }));  // keep what the file says, even unknown
    }
    node.value = value || '';
    node.addEventListener('change', function () { onChange(node.value); });
    return node;
  }

  function groupsInput(value, onChange) {
    var input = textInput('candidateGroups', value, onChange);
    input.setAttribute('list', 'group-list');
    var list = el('datalist', { id: 'group-list' });
    page.groups.forEach(function (group) { list.appendChild(el('option', { value: group })); });
    return el('div', {}, [input, list]);
  }

  function timerDefinition(bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$type === 'bpmn:TimerEventDefinition'; })[0];
  }

  function update(element, properties) {
    modeler.get('modeling').updateProperties(element, properties);
  }

  function expression(body) {
    return body ? modeler.get('moddle').create('bpmn:FormalExpression', { body: body }) : undefined;
  }

  function timerFields(element, definition) {
    var kinds = ['timeDuration', 'timeDate', 'timeCycle'];
    var current = kinds.filter(function (k) { return definition[k]; })[0] || 'timeDuration';
    var body = definition[current] ? definition[current].body : '';
    function store(kind, value) {
      var properties = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      properties[kind] = expression(value);
      modeler.get('modeling').updateModdleProperties(element, definition, properties);
    }
    var kind = select('timerType', kinds.map(function (k) { return { value: k, label: texts[k] }; }), current,
      texts.timer, function (value) { store(value || 'timeDuration', bodyInput.value.trim()); });
    var bodyInput = textInput('timerValue', body, function (value) { store(kind.value || 'timeDuration', value); });
    return [field(texts.timer, kind), field(texts[current] || texts.timer, bodyInput, texts.timerHint)];
  }

  function render(element) {
    panel.innerHTML = '';
    if (!element || element.type === 'label') {
      panel.appendChild(el('p', { 'class': 'hint', text: texts.nothingSelected }));
      return;
    }
    var bo = element.businessObject;
    var rows = [
      field(texts.id, el('input', { type: 'text', name: 'id', value: bo.id, readonly: 'readonly' })),
      field(texts.name, textInput('name', bo.name, function (value) { update(element, { name: value || undefined }); }))
    ];
    if (bo.$type === 'bpmn:UserTask') {
      var forms = page.forms.map(function (f) { return { value: f.key, label: f.title + ' (' + f.key + ')' }; });
      rows.push(field(texts.formKey, select('formKey', forms, bo.get('camunda:formKey'), texts.noForm, function (value) {
        update(element, { 'camunda:formKey': value || undefined });
      })));
      rows.push(field(texts.candidateGroups, groupsInput(bo.get('camunda:candidateGroups'), function (value) {
        update(element, { 'camunda:candidateGroups': value || undefined });
      })));
      rows.push(field(texts.dueDate, textInput('dueDate', bo.get('camunda:dueDate'), function (value) {
        update(element, { 'camunda:dueDate': value || undefined });
      }), texts.dueDateHint));
    }
    if (bo.$type === 'bpmn:ServiceTask' || bo.$type === 'bpmn:SendTask') {
      var topics = page.topics.map(function (t) { return { value: t, label: t }; });
      rows.push(field(texts.topic, select('topic', topics, bo.get('camunda:topic'), texts.noTopic, function (value) {
        update(element, { 'camunda:type': value ? 'external' : undefined, 'camunda:topic': value || undefined });
      })));
    }
    var timer = timerDefinition(bo);
    if (timer) { rows = rows.concat(timerFields(element, timer)); }
    if (bo.$type === 'bpmn:SequenceFlow') {
      var condition = bo.conditionExpression ? bo.conditionExpression.body : '';
      rows.push(field(texts.condition, textInput('condition', condition, function (value) {
        update(element, { conditionExpression: expression(value) });
      }), texts.conditionHint));
    }
    rows.forEach(function (row) { panel.appendChild(row); });
  }

  // --- findings ----------------------------------------------------------------------------------------

  function showFindings(findings) {
    var canvas = modeler.get('canvas');
    var registry = modeler.get('elementRegistry');
    marked.forEach(function (mark) { canvas.removeMarker(mark[0], mark[1]); });
    marked = [];
    var list = document.getElementById('findings');
    list.innerHTML = '';
    document.getElementById('counts').textContent = texts.errors + ' ' + counts.errors + ' · ' +
      texts.warnings + ' ' + counts.warnings + (findings.length ? '' : ' — ' + texts.clean);
    findings.forEach(function (finding) {
      var where = [finding.line ? texts.line + ' ' + finding.line : '', finding.elementId || ''].filter(Boolean).join(' ');
      var item = el('li', { 'class': 'finding-' + finding.severity, 'data-code': finding.code,
                            'data-element': finding.elementId || '' },
        [el('code', { text: finding.code }), document.createTextNode(' ' + (where ? '[' + where + '] ' : '') + finding.text)]);
      if (finding.elementId && registry.get(finding.elementId)) {
        var mark = 'ow-lint-' + finding.severity;
        canvas.addMarker(finding.elementId, mark);
        marked.push([finding.elementId, mark]);
        item.addEventListener('click', function () {
          var target = registry.get(finding.elementId);
          modeler.get('selection').select(target);
          canvas.scrollToElement(target);
        });
      }
      list.appendChild(item);
    });
  }

  function refreshDeploy() {
    deployButton.disabled = !dirty && counts.errors > 0;
    document.getElementById('deploy-revision').value = revision;
    canvasEl.setAttribute('data-revision', String(revision));
  }

  function save() {
    status.textContent = texts.saving;
    return modeler.saveXML({ format: true }).then(function (result) {
      return fetch(page.saveUrl, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
        body: JSON.stringify({ xml: result.xml, revision: revision })
      });
    }).then(function (response) { return response.json(); }).then(function (answer) {
      if (!answer.saved) {
        status.textContent = format(texts.saveFailed, { reason: answer.message });
        return;
      }
      revision = answer.revision;
      counts = answer.counts;
      dirty = false;
      status.textContent = format(texts.saved, { revision: revision });
      showFindings(answer.findings);
      refreshDeploy();
    }).catch(function (error) {
      status.textContent = format(texts.saveFailed, { reason: error.message });
    });
  }

  // --- start ---------------------------------------------------------------------------------------------

  fetch(page.moddleUrl).then(function (response) { return response.json(); }).then(function (camunda) {
    modeler = new BpmnJS({ container: canvasEl, keyboard: { bindTo: document }, moddleExtensions: { camunda: camunda } });
    window.onewindowModeler = modeler;  // for people debugging a diagram in the browser's console
    return modeler.importXML(page.xml);
  }).then(function () {
    modeler.get('canvas').zoom('fit-viewport');
    modeler.on('selection.changed', function (event) { render(event.newSelection[0]); });
    modeler.on('element.changed', function (event) {
      var selected = modeler.get('selection').get();
      if (selected.length === 1 && selected[0] === event.element && !panel.contains(document.activeElement)) {
        render(event.element);
      }
    });
    modeler.on('commandStack.changed', function () {
      dirty = true;
      status.textContent = texts.unsaved;
      refreshDeploy();
    });
    render(null);
    showFindings(page.findings);
    refreshDeploy();
    canvasEl.setAttribute('data-rendered', 'true');
  }).catch(function (error) {
    canvasEl.textContent = error.message;
    canvasEl.setAttribute('data-rendered', 'error');
  });

  document.getElementById('save').addEventListener('click', save);
  window.addEventListener('beforeunload', function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ''; }
  });
  // one click deploys what is on the screen: unsaved changes are saved (and checked) first
  document.getElementById('deploy-form').addEventListener('submit', function (event) {
    if (!dirty) { return; }
    event.preventDefault();
    var form = event.target;
    save().then(function () {
      if (!dirty && counts.errors === 0) { form.submit(); }
    });
  });
}());
