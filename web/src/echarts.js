// The parts of Apache ECharts the dashboard draws with, registered once.
// Importing only these (instead of all of 'echarts') halves the bundle; a
// page that needs another chart type or component adds it here.
import * as echarts from 'echarts/core';
import { BarChart, GraphChart, HeatmapChart, LineChart, SankeyChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent,
  TooltipComponent, VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart, GraphChart, HeatmapChart, LineChart, SankeyChart, ScatterChart,
  DataZoomComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent,
  TooltipComponent, VisualMapComponent, CanvasRenderer,
]);

export default echarts;
