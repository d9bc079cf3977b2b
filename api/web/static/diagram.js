// The supervisors' diagrams: bpmn-js draws each definition of the case; elements get a marker
// (done, waiting, waiting on a timer, failed) and a badge with their counts. The page's tables say
// the same without JavaScript.
(function () {
  var data = JSON.parse(document.getElementById('diagram-data').textContent);
  data.forEach(function (diagram, index) {
    var container = document.getElementById('diagram-' + index);
    if (!container || typeof BpmnJS === 'undefined') { return; }
    var viewer = new BpmnJS({ container: container });
    viewer.importXML(diagram.xml).then(function () {
      var canvas = viewer.get('canvas');
      var overlays = viewer.get('overlays');
      var registry = viewer.get('elementRegistry');
      canvas.zoom('fit-viewport');
      Object.keys(diagram.elements).forEach(function (id) {
        var element = diagram.elements[id];
        if (!registry.get(id)) { return; }
        canvas.addMarker(id, 'ow-' + element.marker);
        var counts = [];
        if (element.completed > 1 || (element.completed && element.active)) { counts.push('✓' + element.completed); }
        if (element.active > 1) { counts.push('⏳' + element.active); }
        if (element.incidents) { counts.push('⚠' + element.incidents); }
        if (counts.length) {
          overlays.add(id, { position: { bottom: 8, right: 8 },
                             html: '<span class="ow-count ow-' + element.marker + '">' + counts.join(' ') + '</span>' });
        }
      });
      container.setAttribute('data-rendered', 'true');
    }).catch(function (error) {
      container.textContent = error.message;
      container.setAttribute('data-rendered', 'error');
    });
  });
}());
