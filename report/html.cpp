#include "report/html.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace ss::report {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// Colors as variables so that one stylesheet serves both themes; the charts' SVG uses the same classes.
constexpr std::string_view kStyle = R"(
:root{--bg:#fff;--fg:#1d2430;--muted:#5b6577;--line:#d5dae3;--panel:#f5f7fa;--link:#0b5cad;
--c0:#1f77b4;--c1:#ff7f0e;--c2:#2ca02c;--c3:#9467bd;--c4:#8c8c00;--c5:#17becf;--c6:#8c564b;--c7:#e377c2;
--band:rgba(44,160,44,.15);--win:rgba(214,39,40,.08);--thr:#d62728;--crit:#c62828;--warn:#b26a00;--open:#c62828}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e3e7ee;--muted:#98a2b3;--line:#343b47;--panel:#1c2129;
--link:#7db7ff;--c0:#5aa9e6;--c1:#ffb454;--c2:#6bd17d;--c3:#c3a3f0;--c4:#d4d45a;--c5:#4fd6e6;--c6:#d6a48c;--c7:#f39ad6;
--band:rgba(107,209,125,.18);--win:rgba(255,107,107,.12);--thr:#ff6b6b;--crit:#ff6b6b;--warn:#ffb454;--open:#ff6b6b}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1100px;padding:16px 20px 40px;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
a{color:var(--link)}
h1{font-size:20px;margin:8px 0 4px}h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid var(--line);padding-bottom:3px}
.muted{color:var(--muted)}.crit{color:var(--crit);font-weight:600}.warn{color:var(--warn);font-weight:600}
.open{color:var(--open);font-weight:600}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:8px 0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.summary{font-size:15px;padding:10px 12px;background:var(--panel);border-left:4px solid var(--c0);margin:8px 0}
.chart{margin:10px 0 18px}.chart h3{font-size:14px;margin:0 0 4px}
svg text{fill:var(--muted);font-size:11px}svg .grid{stroke:var(--line);stroke-width:1}
svg .band{fill:var(--band)}svg .win{fill:var(--win)}svg .thr{stroke:var(--thr);stroke-dasharray:6 4;stroke-width:1.5;fill:none}
svg .ref{stroke:var(--muted);stroke-dasharray:2 3;stroke-width:1.5;fill:none}
svg .s{fill:none;stroke-width:1.8}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:14px;height:3px;margin-right:5px;vertical-align:middle}
.k0{stroke:var(--c0);background:var(--c0)}.k1{stroke:var(--c1);background:var(--c1)}.k2{stroke:var(--c2);background:var(--c2)}.k3{stroke:var(--c3);background:var(--c3)}
.k4{stroke:var(--c4);background:var(--c4)}.k5{stroke:var(--c5);background:var(--c5)}.k6{stroke:var(--c6);background:var(--c6)}.k7{stroke:var(--c7);background:var(--c7)}
.kthr{background:var(--thr)}.kband{background:var(--band);height:8px!important}.kref{background:var(--muted)}
svg rect.iw{fill:var(--warn)}svg rect.ic{fill:var(--crit)}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;background:var(--panel);padding:8px 10px;margin:8px 0}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select,button{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);padding:3px 6px}
ol.steps li{margin:4px 0}code{background:var(--panel);padding:1px 4px}pre{background:var(--panel);padding:8px;overflow:auto;font-size:12px}
.local{color:var(--muted);font-size:12px}
)";

// Adds the reader's local time after every <time>; the UTC text is already there without it.
constexpr std::string_view kScript = R"(
document.querySelectorAll('time[datetime]').forEach(function(t){
var d=new Date(t.getAttribute('datetime'));if(isNaN(d))return;
var s=document.createElement('span');s.className='local';s.textContent=' ('+d.toLocaleString()+' local)';
t.insertAdjacentElement('afterend',s);});
)";

}  // namespace

std::string page(std::string_view title, std::string_view body) {
  std::string out;
  out.reserve(body.size() + kStyle.size() + 600);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<meta name=\"color-scheme\" content=\"light dark\">"
         // Nothing may be fetched: no network even if a label smuggled a URL in somewhere.
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src 'unsafe-inline'; img-src data:\">"
         "<title>";
  out += escape(title);
  out += "</title><style>";
  out += kStyle;
  out += "</style></head><body>\n";
  out += body;
  out += "\n<script>";
  out += kScript;
  out += "</script></body></html>\n";
  return out;
}

std::string utc_text(int64_t ms) {
  std::time_t s = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string time_html(int64_t ms) {
  std::string utc = utc_text(ms);
  std::string iso = utc.substr(0, 10) + "T" + utc.substr(11, 8) + "Z";
  return fmt::format("<time datetime=\"{}\">{}</time>", iso, utc);
}

std::string dollars(double usd) {
  if (!std::isfinite(usd)) return "$?";
  if (std::fabs(usd) < 1000) return fmt::format("${:.2f}", usd);
  std::string digits = fmt::format("{:.0f}", std::fabs(usd));
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return (usd < 0 ? "-$" : "$") + grouped;
}

std::string si(double v) {
  if (!std::isfinite(v)) return "?";
  double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:.3g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.3g}k", v / 1e3);
  if (a == 0) return "0";
  return fmt::format("{:.3g}", v);
}

std::string bytes_text(double b) {
  if (!std::isfinite(b)) return "?";
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (std::fabs(b) >= 1000 && u < 5) b /= 1000, ++u;
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.3g} {}", b, units[u]);
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace ss::report
