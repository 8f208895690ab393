use super::*;

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_kind_parses_with_units() {
    type Case = (FaultKind, Vec<(&'static str, &'static str)>, Params);
    let cases: Vec<Case> = vec![
        (
            FaultKind::Latency,
            vec![("latency", "200ms"), ("jitter", "20ms")],
            Params::Latency {
                latency: Duration::from_millis(200),
                jitter: Duration::from_millis(20),
            },
        ),
        (
            FaultKind::Bandwidth,
            vec![("rate", "8mbit")],
            Params::Bandwidth { rate: 1_000_000 },
        ),
        (
            FaultKind::Timeout,
            vec![],
            Params::Timeout {
                timeout: Duration::ZERO,
            },
        ),
        (
            FaultKind::ResetPeer,
            vec![("timeout", "1s")],
            Params::ResetPeer {
                timeout: Duration::from_secs(1),
            },
        ),
        (
            FaultKind::SlowClose,
            vec![("delay", "2s")],
            Params::SlowClose {
                delay: Duration::from_secs(2),
            },
        ),
        (
            FaultKind::Slicer,
            vec![
                ("average_size", "64"),
                ("size_variation", "16"),
                ("delay", "1ms"),
            ],
            Params::Slicer {
                average_size: 64,
                size_variation: 16,
                delay: Duration::from_millis(1),
            },
        ),
        (
            FaultKind::LimitData,
            vec![("bytes", "64k")],
            Params::LimitData { bytes: 65_536 },
        ),
        (
            FaultKind::HttpStatus,
            vec![("status", "502")],
            Params::HttpStatus { status: 502 },
        ),
        (FaultKind::HttpAbort, vec![], Params::HttpAbort),
        (
            FaultKind::HttpDelay,
            vec![("delay", "1.5s")],
            Params::HttpDelay {
                delay: Duration::from_millis(1500),
            },
        ),
    ];
    assert_eq!(cases.len(), FaultKind::ALL.len());
    for (kind, pairs, params) in cases {
        let spec = FaultSpec::from_params(kind, &pairs).unwrap();
        assert_eq!(spec.params, params, "{kind}");
        assert_eq!(spec.kind(), kind);
        assert_eq!(spec.direction, Direction::Downstream);
        assert!((spec.toxicity - 1.0).abs() < f64::EPSILON);
        // The canonical text form parses back to the same spec.
        let texts = spec.param_texts();
        let again: Vec<(&str, &str)> = texts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(FaultSpec::from_params(kind, &again).unwrap(), spec);
        assert_eq!(kind.name().parse::<FaultKind>().unwrap(), kind);
    }
}

#[test]
fn common_keys_direction_toxicity_sources() {
    let spec = FaultSpec::from_words(
        "http_status",
        &words(&[
            "status=503",
            "toxicity=30%",
            "direction=upstream",
            "sources=10.213.0.5,10.213.1.0/24",
        ]),
    )
    .unwrap();
    assert_eq!(spec.params, Params::HttpStatus { status: 503 });
    assert!((spec.toxicity - 0.3).abs() < 1e-12);
    assert_eq!(spec.direction, Direction::Upstream);
    assert_eq!(spec.sources.len(), 2);
    assert_eq!(spec.sources[0].to_string(), "10.213.0.5/32");
}

#[test]
fn unknown_kind_lists_every_kind_with_units() {
    let e = FaultSpec::from_words("lag", &[]).unwrap_err();
    assert_eq!(e.to_string(), "unknown fault kind \"lag\"");
    let valid = e.valid();
    assert_eq!(valid.len(), FaultKind::ALL.len());
    assert!(
        valid[0].starts_with("latency(latency=<duration, e.g. 200ms"),
        "{valid:?}"
    );
    assert!(
        valid
            .iter()
            .any(|v| v.contains("rate=<rate, e.g. 1mb/s, 8mbit>"))
    );
}

#[test]
fn unknown_parameter_lists_the_kinds_parameters() {
    let e = FaultSpec::from_params(FaultKind::Latency, &[("delay", "1s")]).unwrap_err();
    assert_eq!(e.to_string(), "unknown parameter \"delay\" for latency");
    let valid = e.valid();
    assert!(valid[0].starts_with("latency=<duration"), "{valid:?}");
    assert!(valid[1].starts_with("jitter=<duration"), "{valid:?}");
    assert!(valid.iter().any(|v| v.starts_with("toxicity=")));
    let e = FaultSpec::from_words("latency", &words(&["200ms"])).unwrap_err();
    assert!(matches!(e, FaultError::UnknownParam { .. }));
}

#[test]
fn missing_parameter_is_named() {
    let e = FaultSpec::from_params(FaultKind::Bandwidth, &[]).unwrap_err();
    assert_eq!(e.to_string(), "bandwidth needs the parameter \"rate\"");
    assert!(e.valid()[0].contains("rate=<rate"));
}

#[test]
fn bad_values_are_quoted_with_their_unit() {
    let cases = [
        (FaultKind::Latency, "latency", "200", "missing unit"),
        (FaultKind::Latency, "latency", "fast", "\"fast\""),
        (FaultKind::Bandwidth, "rate", "1mb", "8mbit"),
        (FaultKind::LimitData, "bytes", "lots", "\"lots\""),
        (FaultKind::HttpStatus, "status", "700", "200 to 599"),
        (FaultKind::Slicer, "average_size", "0", "at least 1 byte"),
    ];
    for (kind, param, value, needle) in cases {
        let e = FaultSpec::from_params(kind, &[(param, value)]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(&format!("{value:?}")), "{text}");
        assert!(text.contains(needle), "{text}");
        let valid = e.valid();
        assert_eq!(valid.len(), 1, "{valid:?}");
        assert!(valid[0].starts_with(&format!("{param}=<")), "{valid:?}");
    }
    let e = FaultSpec::from_params(
        FaultKind::Slicer,
        &[("average_size", "8"), ("size_variation", "8")],
    )
    .unwrap_err();
    assert!(e.to_string().contains("smaller than average_size"), "{e}");
}

#[test]
fn bad_common_values() {
    let e = FaultSpec::from_params(FaultKind::HttpAbort, &[("toxicity", "150%")]).unwrap_err();
    assert!(e.to_string().contains("\"150%\""), "{e}");
    assert!(e.valid()[0].starts_with("toxicity="));
    let e = FaultSpec::from_params(FaultKind::HttpAbort, &[("direction", "sideways")]).unwrap_err();
    assert_eq!(e.valid(), ["upstream", "downstream"]);
    let e = FaultSpec::from_params(FaultKind::HttpAbort, &[("sources", "10.0.0.300")]).unwrap_err();
    assert!(e.to_string().contains("\"10.0.0.300\""), "{e}");
}

#[test]
fn json_round_trip_and_the_documented_shape() {
    let text = r#"{"kind":"latency","direction":"downstream","toxicity":1.0,
        "params":{"latency":"200ms","jitter":"20ms"},"sources":["10.213.0.5/32"]}"#;
    let spec: FaultSpec = serde_json::from_str(text).unwrap();
    assert_eq!(
        spec.params,
        Params::Latency {
            latency: Duration::from_millis(200),
            jitter: Duration::from_millis(20)
        }
    );
    assert_eq!(spec.sources.len(), 1);
    let back: FaultSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
    // Numbers are accepted where they carry no unit; toxicity as a percentage.
    let spec: FaultSpec =
        serde_json::from_str(r#"{"kind":"http-status","toxicity":"30%","params":{"status":503}}"#)
            .unwrap();
    assert_eq!(spec.params, Params::HttpStatus { status: 503 });
    // An installed fault flattens its spec next to its id.
    let fault = Fault { id: 7, spec };
    let json = serde_json::to_value(&fault).unwrap();
    assert_eq!(json["id"], 7);
    assert_eq!(json["kind"], "http-status");
    assert_eq!(json["params"]["status"], "503");
    let back: Fault = serde_json::from_value(json).unwrap();
    assert_eq!(back, fault);
    let wire: FaultSpecWire =
        serde_json::from_str(r#"{"kind":"latency","params":{"latency":"2 parsecs"}}"#).unwrap();
    let e = FaultSpec::try_from(wire).unwrap_err();
    assert!(e.to_string().contains("\"2 parsecs\""), "{e}");
}
