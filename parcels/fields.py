"""The columns of parcel, enterprise, land and occupancy layers: aliases and confidentiality.

The field table (:class:`gis.layer_writer.fields.FieldInfo`) the one layer writer uses
for the columns this package owns: Chinese alias (XLSX headers, QGIS aliases, the
Shapefile alias table), English alias and how ``--desensitize`` treats the column
(``mask_name``: keep the first character; ``mask_code``: keep the first 8 characters of a
credit code; ``drop``: confidential figures such as tax, revenue, energy and per-mu
figures; ``keep``). ``mujun export --fields`` lists every table.
"""

from __future__ import annotations

from gis.layer_writer.fields import FieldInfo, field_table

_F = FieldInfo

PARCEL_FIELDS = field_table(
    _F("parcel_code", "宗地代码", "parcel code"),
    _F("town", "镇街", "town"),
    _F("district", "区县", "district"),
    _F("park", "园区", "park"),
    _F("land_use_code", "土地用途", "land use"),
    _F("area_m2", "实测面积（平方米）", "measured area (m²)"),
    _F("area_mu", "实测面积（亩）", "measured area (mu)"),
    _F("cert_area_m2", "证载面积（平方米）", "certificate area (m²)"),
    _F("cert_diff_m2", "面积差（平方米）", "measured − certificate (m²)"),
    _F("built_m2", "建筑占地（平方米）", "built area (m²)"),
    _F("built_mu", "建筑占地（亩）", "built area (mu)"),
    _F("sliver_m2", "错位碎片（平方米）", "misregistration slivers (m²)"),
    _F("coverage", "建筑系数", "building coverage"),
    _F("floor_area_m2", "建筑面积（平方米）", "floor area (m²)"),
    _F("far", "容积率", "floor-area ratio"),
    _F("planned_far", "规划容积率", "planned FAR"),
    _F("n_buildings", "建筑数", "buildings"),
    _F("run_id", "运行编号", "run id"),
    _F("year", "年度", "year"),
    _F("credit_code", "统一社会信用代码", "credit code", "mask_code"),
    _F("holder_code", "权利人信用代码", "holder credit code", "mask_code"),
    _F("name", "企业名称", "enterprise name", "mask_name"),
    _F("holder", "土地权利人", "land holder", "mask_name"),
    _F("industry_code", "行业代码", "industry code"),
    _F("division", "行业大类", "industry division"),
    _F("division_name", "行业名称", "industry name"),
    _F("size_class", "规模", "size class"),
    _F("status", "状态", "status"),
    _F("land_m2", "用地面积（平方米）", "land (m²)"),
    _F("land_mu", "用地面积（亩）", "land (mu)"),
    _F("n_parcels", "宗地数", "parcels"),
    _F("role", "权利类型", "role"),
    _F("merged_into", "合并至", "merged into", "mask_code"),
    _F("tax_wan", "税收（万元）", "tax (10k yuan)", "drop"),
    _F("revenue_wan", "营业收入（万元）", "revenue (10k yuan)", "drop"),
    _F("value_added_wan", "增加值（万元）", "value added (10k yuan)", "drop"),
    _F("energy_tce", "能耗（吨标煤）", "energy (tce)", "drop"),
    _F("electricity_kwh", "用电量（千瓦时）", "electricity (kWh)", "drop"),
    _F("rd_wan", "研发投入（万元）", "R&D (10k yuan)", "drop"),
    _F("employees", "从业人数", "employees", "drop"),
    _F("tax_per_mu", "亩均税收（万元/亩）", "tax per mu (10k yuan/mu)", "drop"),
    _F("revenue_per_mu", "亩均营收（万元/亩）", "revenue per mu (10k yuan/mu)", "drop"),
    _F("value_added_per_mu", "亩均增加值（万元/亩）", "value added per mu (10k yuan/mu)", "drop"),
    _F("footprint_id", "建筑编号", "footprint id"),
    _F("height_m", "高度（米）", "height (m)"),
    _F("storeys", "层数", "storeys"),
    _F("image_date", "影像日期", "image date"),
    _F("method", "提取方法", "method"),
    _F("confidence", "置信度", "confidence"),
    _F("n_enterprises", "企业数", "enterprises"),
    _F("n_parcels_town", "宗地数", "parcels"),
    _F("right_type", "权利类型", "right type"),
)
