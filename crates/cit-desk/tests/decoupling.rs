//! The desk knows the API only over HTTP: it must not depend on any other cit crate, directly
//! or through a dependency.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn cit_desk_depends_on_no_other_cit_crate() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    let lock: toml::Table = toml::from_str(&lock).unwrap();
    let packages = lock["package"].as_array().unwrap();
    let deps_of = |name: &str| -> Vec<String> {
        packages
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .and_then(|p| p.get("dependencies"))
            .and_then(|d| d.as_array())
            .map(|d| d.iter().filter_map(|v| v.as_str()).map(|s| s.split(' ').next().unwrap_or(s).to_owned()).collect())
            .unwrap_or_default()
    };
    // Everything cit-desk pulls in, transitively.
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec!["cit-desk".to_owned()];
    while let Some(name) = todo.pop() {
        for dep in deps_of(&name) {
            if seen.insert(dep.clone()) {
                todo.push(dep);
            }
        }
    }
    assert!(!seen.is_empty(), "cit-desk not found in Cargo.lock");
    for forbidden in ["cit-core", "cit-store", "cit-api", "cit-site", "cit", "sea-orm"] {
        assert!(!seen.contains(forbidden), "cit-desk depends on {forbidden}");
    }
}
