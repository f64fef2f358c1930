#include "pacing/event_json.h"

#include "metrics/e164.h"
#include "metrics/json_writer.h"

namespace sippacer::pacing {

std::string EventTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()); }

std::string StateEventJson(const StateChange& c) {
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("state");
  w.Key("number").String(metrics::FormatE164(c.number));
  w.Key("from").String(StateName(c.from));
  w.Key("to").String(StateName(c.to));
  w.Key("at").String(EventTime(c.at));
  w.Key("reason").String(c.reason);
  w.EndObject();
  return w.Take();
}

std::string WatchEventJson(const WatchChange& c) {
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("watch");
  w.Key("number").String(metrics::FormatE164(c.number));
  w.Key("from").String(c.watched ? "normal" : "watch");
  w.Key("to").String(c.watched ? "watch" : "normal");
  w.Key("at").String(EventTime(c.at));
  w.Key("reason").String(c.reason);
  w.EndObject();
  return w.Take();
}

std::string RouteEventJson(const RouteChange& c) {
  metrics::JsonWriter w;
  w.BeginObject();
  w.Key("event").String("route");
  w.Key("route").String(c.route);
  w.Key("code").String(c.code);
  w.Key("from").String(c.elevated ? "normal" : "elevated");
  w.Key("to").String(c.elevated ? "elevated" : "normal");
  w.Key("at").String(EventTime(c.at));
  w.Key("reason").String(c.reason);
  w.EndObject();
  return w.Take();
}

}  // namespace sippacer::pacing
