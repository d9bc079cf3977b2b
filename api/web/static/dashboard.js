// The dashboard's charts (ECharts, served locally): drawn from the same figures the tables show.
(function () {
  if (typeof echarts === 'undefined') { return; }
  var data = JSON.parse(document.getElementById('dashboard-data').textContent);
  var f = data.figures, labels = data.labels, names = data.departments;
  var rendered = 0;
  function chart(id, option) {
    var element = document.getElementById(id);
    var instance = echarts.init(element, null, { renderer: 'svg' });
    // tooltips drawn inside the chart (richText), not as HTML with style attributes the page's CSP refuses
    var tooltip = Object.assign({ trigger: 'axis' }, option.tooltip, { renderMode: 'richText' });
    instance.setOption(Object.assign({ animation: false }, option, { tooltip: tooltip }));
    element.setAttribute('data-rendered', 'true');
    rendered += 1;
  }
  var departments = f.departments.map(function (d) { return names[d.department] || d.department; });
  chart('chart-days', {
    legend: { data: [labels.received, labels.completed] },
    xAxis: { type: 'category', data: f.days.map(function (d) { return d.day.slice(5); }) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ name: labels.received, type: 'bar', data: f.days.map(function (d) { return d.received; }) },
             { name: labels.completed, type: 'line', data: f.days.map(function (d) { return d.completed; }) }]
  });
  function percent(v) { return v === null ? null : Math.round(v * 1000) / 10; }
  chart('chart-departments', {
    legend: { data: [labels.onTime, labels.instant, labels.online] },
    xAxis: { type: 'category', data: departments, axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [{ name: labels.onTime, type: 'bar', data: f.departments.map(function (d) { return percent(d.onTimeRate); }) },
             { name: labels.instant, type: 'bar', data: f.departments.map(function (d) { return percent(d.instantShare); }) },
             { name: labels.online, type: 'bar', data: f.departments.map(function (d) { return percent(d.onlineShare); }) }]
  });
  chart('chart-limits', {
    legend: { data: [labels.used, labels.promised] },
    xAxis: { type: 'category', data: departments, axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: 'value' },
    series: [{ name: labels.used, type: 'bar', data: f.departments.map(function (d) { return d.averageWorkingDaysUsed; }) },
             { name: labels.promised, type: 'bar', data: f.departments.map(function (d) { return d.averagePromisedDays; }) }]
  });
  // a pie of nothing says so, instead of drawing equal slices of zero
  function pie(id, names, values, colors, radius) {
    var total = values.reduce(function (a, b) { return a + b; }, 0);
    chart(id, {
      tooltip: { trigger: 'item' },
      title: total ? undefined : { text: labels.none, left: 'center', top: 'middle', textStyle: { color: '#9aa5b1' } },
      series: [{ type: 'pie', radius: radius, stillShowZeroSum: false,
                 data: names.map(function (name, i) { return { name: name, value: values[i], itemStyle: { color: colors[i] } }; })
                   .filter(function (d) { return d.value > 0; }) }]
    });
  }
  pie('chart-open', ['normal', 'yellow', 'red'].map(function (s) { return labels.states[s]; }),
      ['normal', 'yellow', 'red'].map(function (s) { return f.openCases[s]; }),
      ['#2f9e44', '#f7c948', '#d64545'], ['40%', '70%']);
  pie('chart-ratings', labels.levels, labels.levels.map(function (level) { return f.total.ratings[level]; }),
      ['#2b8a3e', '#51cf66', '#ffd43b', '#ff922b', '#e03131'], '65%');
  document.body.setAttribute('data-charts', String(rendered));
}());
