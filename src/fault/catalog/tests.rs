use super::*;

fn sets(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_fill_in_and_units_parse() {
    let r = request("cpu-throttle", &[]).unwrap();
    assert_eq!(r.number("cpus"), Some(0.1));
    let r = request("memory-pressure", &sets(&[("memory", "64m")])).unwrap();
    assert_eq!(r.number("memory"), Some(67_108_864.0));
    let r = request("kill", &sets(&[("signal", "term")])).unwrap();
    assert_eq!(r.text("signal"), Some("SIGTERM"));
    let r = request("stop", &sets(&[("grace", "1500ms")])).unwrap();
    assert_eq!(r.duration("grace"), Some(Duration::from_millis(1500)));
    let r = request("packet-drop", &sets(&[("percent", "30%")])).unwrap();
    assert_eq!(r.number("percent"), Some(0.3));
    let r = request("rate-limit", &sets(&[("rate", "8mbit")])).unwrap();
    assert_eq!(r.number("rate"), Some(1_000_000.0));
}

#[test]
fn unknown_kinds_and_params_list_the_valid_ones_with_units() {
    let e = request("meteor", &[]).unwrap_err().to_string();
    assert!(e.contains("unknown fault \"meteor\""), "{e}");
    assert!(e.contains("pause (instance)"), "{e}");
    assert!(e.contains("latency (edge)"), "{e}");
    let e = request("stop", &sets(&[("timeout", "1s")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("stop has no parameter \"timeout\""), "{e}");
    assert!(
        e.contains("grace (duration: 250ms, 2s, 1m; default 2s)"),
        "{e}"
    );
    let e = request("pause", &sets(&[("x", "1")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("(none)"), "{e}");
}

#[test]
fn bad_values_are_quoted_with_the_expected_units() {
    let e = request("stop", &sets(&[("grace", "soon")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("grace=\"soon\""), "{e}");
    assert!(e.contains("expected duration: 250ms, 2s, 1m"), "{e}");
    let e = request("packet-drop", &sets(&[("percent", "150%")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"150%\""), "{e}");
    let e = request("outage", &sets(&[("mode", "explode")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("one of stop, kill, pause"), "{e}");
    let e = request("credential-revocation", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("var is required"), "{e}");
}

#[test]
fn edge_kinds_go_through_the_proxy_model() {
    let r = request("latency", &sets(&[("latency", "200ms")])).unwrap();
    assert_eq!(r.kind, "latency");
    assert!(r.params.contains_key("direction"));
    let e = request("latency", &sets(&[("latency", "fast")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"fast\""), "{e}");
}

#[test]
fn set_words_split() {
    assert_eq!(
        split_sets(&["a=1".into(), "b = x".into()]).unwrap(),
        sets(&[("a", "1"), ("b", "x")])
    );
    assert!(split_sets(&["nokey".into()]).is_err());
    assert!(split_sets(&["=1".into()]).is_err());
}

#[test]
fn every_kind_has_a_parsable_default_request() {
    for k in KINDS {
        if k.params.iter().any(|p| p.default.is_none()) {
            continue;
        }
        request(k.name, &[]).unwrap_or_else(|e| panic!("{}: {e}", k.name));
    }
}
