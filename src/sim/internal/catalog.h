// The simulated brand: 青颜 Qingyan, a Chinese skincare and make-up brand
// selling on its own site, apps, WeChat and Douyin mini-programs, a Tmall
// flagship store and city stores. Its products, cities, content and search
// keywords, as constant tables.
//
// Thread-safety: constant data; EncodedKeyword is safe to call concurrently.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace quanyu::sim::internal {

inline constexpr std::string_view kSiteOrigin = "https://www.qingyan-beauty.cn";
inline constexpr std::string_view kAppScheme = "qingyan://";

inline constexpr int kCategoryCount = 6;
inline constexpr std::array<std::string_view, kCategoryCount> kCategories = {
    "serum", "cream", "cleanser", "sunscreen", "mask", "makeup"};

struct Product {
  std::string_view id;
  std::string_view name;  // may contain characters that need JSON escaping
  int category;           // index into kCategories
  double price;           // CNY
};
inline constexpr std::array<Product, 22> kProducts = {{
    {"SKU-1001", "玻尿酸补水精华 30ml", 0, 299},
    {"SKU-1002", "烟酰胺亮肤精华 30ml", 0, 329},
    {"SKU-1003", "视黄醇抗初老精华 30ml", 0, 459},
    {"SKU-1004", "维C焕亮精华 15ml", 0, 259},
    {"SKU-2001", "神经酰胺修护面霜 50g", 1, 369},
    {"SKU-2002", "胶原紧致面霜 50g", 1, 499},
    {"SKU-2003", "清爽控油乳液 100ml", 1, 199},
    {"SKU-2004", "夜间修护霜 \"晚安\"限定版", 1, 529},
    {"SKU-3001", "氨基酸洁面乳 120g", 2, 89},
    {"SKU-3002", "温和卸妆油 200ml", 2, 159},
    {"SKU-3003", "绵密洁面泡沫 150ml", 2, 99},
    {"SKU-4001", "轻薄防晒乳 SPF50+ PA++++", 3, 189},
    {"SKU-4002", "物理防晒霜 SPF30\\敏感肌", 3, 169},
    {"SKU-4003", "清透防晒喷雾 150ml", 3, 139},
    {"SKU-5001", "补水面膜 5片装", 4, 129},
    {"SKU-5002", "泥膜清洁面膜 100g", 4, 149},
    {"SKU-5003", "免洗睡眠面膜 80g", 4, 179},
    {"SKU-6001", "丝绒哑光口红 #01 正红", 5, 229},
    {"SKU-6002", "水光唇釉 #05", 5, 199},
    {"SKU-6003", "轻透气垫粉底 SPF35", 5, 349},
    {"SKU-6004", "极细眉笔", 5, 69},
    {"SKU-6005", "四色眼影盘 \"晨雾\"", 5, 259},
}};

struct City {
  std::string_view name;        // as members type it, in Chinese
  std::string_view store_code;  // POS store id prefix
  double weight;
};
inline constexpr std::array<City, 12> kCities = {{
    {"上海", "SH", 14},
    {"北京", "BJ", 13},
    {"广州", "GZ", 10},
    {"深圳", "SZ", 10},
    {"杭州", "HZ", 8},
    {"成都", "CD", 8},
    {"武汉", "WH", 6},
    {"南京", "NJ", 6},
    {"重庆", "CQ", 6},
    {"西安", "XA", 5},
    {"苏州", "SU", 5},
    {"长沙", "CS", 5},
}};

inline constexpr std::array<std::string_view, 8> kArticleTitles = {
    "早C晚A怎么搭？一篇讲清楚",     "敏感肌换季护理指南",
    "38焕新季 会员专享礼",          "防晒到底要不要天天涂",
    "成分党必看：烟酰胺的正确用法", "新品上市 | 视黄醇抗初老精华",
    "门店活动：免费肌肤检测",       "会员日 双倍积分",
};

inline constexpr std::array<std::string_view, 8> kSearchKeywords = {
    "精华推荐", "敏感肌 面霜", "防晒 测评",   "青颜 旗舰店",
    "平价口红", "早C晚A",      "学生党 护肤", "青颜 玻尿酸精华",
};

// kSearchKeywords[i] percent-encoded for a URL query (UTF-8 bytes as %XX).
const std::string& EncodedKeyword(size_t i);

}  // namespace quanyu::sim::internal
