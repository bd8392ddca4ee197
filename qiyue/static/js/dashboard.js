/* The dashboard's charts (Apache ECharts, vendored): drawn from the JSON the page carries in
   #dashboard-charts; a click on a bar opens the list filtered to what that bar counts. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var grid = { left: 8, right: 16, top: 24, bottom: 8, containLabel: true };
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function compact(value) {
    return new Intl.NumberFormat(document.documentElement.lang || undefined,
      { notation: "compact", maximumFractionDigits: 1 }).format(value);
  }

  function draw(name, option, links) {
    var element = document.querySelector('[data-chart="' + name + '"]');
    if (!element) { return; }
    var chart = window.echarts.init(element, null, { locale: data.locale, renderer: "svg" });
    // Drawn (its bars grown to full height): the browser tests wait for this before clicking a bar.
    chart.on("finished", function () { element.dataset.drawn = "1"; });
    chart.setOption(option);
    chart.on("click", function (params) {
      var url = links(params);
      if (url) { window.location.href = url; }
    });
    chart.getZr().on("mousemove", function () { element.style.cursor = "pointer"; });
    charts.push(chart);
  }

  var status = data.status;
  draw("status", {
    animation: false,
    grid: grid,
    tooltip: { trigger: "item" },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: status.labels, inverse: true },
    series: [{ name: status.name, type: "bar", data: status.values.map(function (value, i) {
      return { value: value, itemStyle: { color: status.colors[i] } };
    }) }]
  }, function (params) { return status.links[params.dataIndex]; });

  var signed = data.signed;
  if (signed.series.length) {
    draw("signed", {
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0, selectedMode: "single" },
      tooltip: { trigger: "item", formatter: function (params) {
        var series = signed.series[params.seriesIndex];
        return params.name + "<br>" + series.name + " " + numbers.format(params.value) +
          " (" + signed.count_label + " " + series.counts[params.dataIndex] + ")";
      } },
      xAxis: { type: "category", data: signed.labels, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", axisLabel: { formatter: compact } },
      series: signed.series.map(function (series) {
        return { name: series.name, type: "bar", data: series.values, itemStyle: { color: series.color } };
      })
    }, function (params) { return signed.series[params.seriesIndex].links[params.dataIndex]; });
  }

  var expiring = data.expiring;
  draw("expiring", {
    animation: false,
    grid: grid,
    tooltip: { trigger: "item" },
    xAxis: { type: "category", data: expiring.labels, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: expiring.name, type: "bar", data: expiring.values, itemStyle: { color: "#fd7e14" } }]
  }, function (params) { return expiring.values[params.dataIndex] ? expiring.links[params.dataIndex] : null; });

  // Receivables: one currency at a time (amounts in different currencies are never added), each bar in
  // its bucket's colour; a click opens the receivables page filtered to that bar's installments.
  function receivables(name, chart) {
    if (!chart || !chart.series.length) { return; }
    draw(name, {
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0, selectedMode: "single" },
      tooltip: { trigger: "item", formatter: function (params) {
        return params.name + "<br>" + chart.series[params.seriesIndex].name + " " + numbers.format(params.value);
      } },
      xAxis: { type: "category", data: chart.labels, axisLabel: { hideOverlap: true, interval: 0, rotate: 30 } },
      yAxis: { type: "value", axisLabel: { formatter: compact } },
      series: chart.series.map(function (series) {
        return { name: series.name, type: "bar", itemStyle: { color: series.color },
          data: series.values.map(function (value, i) {
            return { value: value, itemStyle: { color: series.colors[i] } };
          }) };
      })
    }, function (params) {
      var series = chart.series[params.seriesIndex];
      return series.values[params.dataIndex] ? series.links[params.dataIndex] : null;
    });
  }
  // Finance's receivables card carries its own figures (qiyue/templates/finance/_dashboard_receivables.html).
  var owed = document.getElementById("receivable-charts");
  if (owed) {
    owed = JSON.parse(owed.textContent);
    receivables("aging", owed.aging);
    receivables("due", owed.due);
  }

  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  window.qiyueCharts = charts;  // for the browser tests
}());
