// The supervisors' diagrams: bpmn-js draws each definition; elements get a marker (a case's page: done,
// waiting, waiting on a timer, failed; a process's page: how many cases wait there) and a badge with
// their counts, both made by the server. The pages' tables say the same without JavaScript.
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
        if (element.badge) {
          var badge = document.createElement('span');
          badge.className = 'ow-count ow-' + element.marker;
          badge.textContent = element.badge;
          overlays.add(id, { position: { bottom: 8, right: 8 }, html: badge });
        }
      });
      container.setAttribute('data-rendered', 'true');
    }).catch(function (error) {
      container.textContent = error.message;
      container.setAttribute('data-rendered', 'error');
    });
  });
}());
