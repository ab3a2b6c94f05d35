//! Surveys over HTTP: forty member bodies answer through their own invitation links (a draft,
//! then the rest, then sent), the results are recomputed here from the answers sent and must
//! match to the unit; charts, CSV and XLSX; and every refusal with nothing stored.

use std::collections::BTreeMap;

use chrono::Duration;
use cit_api::clock::Clock;
use cit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use super::requests::outbox;

const PROVINCES: [&str; 3] = ["LE", "BR", "TA"];
const SERVIZI: [&str; 4] = ["protocollo", "pagopa", "appio", "sito"];

async fn tenant(app: &TestApp, admin: &str, id: &str) {
    let res = app.create_tenant(admin, id).await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.apply_preset(admin, id).await;
}

fn definition(app: &TestApp, results: &str) -> Value {
    json!({
        "title": "Rilevazione dei fabbisogni digitali",
        "description": "Per programmare i servizi del CIT.",
        "closes": (app.clock.now() + Duration::days(7)).to_rfc3339(),
        "audience": "invited",
        "results": results,
        "sections": [
            {"title": "L'ente", "questions": [
                {"name": "pec", "label": "L'ente usa la PEC per il protocollo?", "kind": "single", "required": true,
                 "options": [{"value": "si", "label": "Sì"}, {"value": "no", "label": "No"},
                             {"value": "in-parte", "label": "In parte"}]},
                {"name": "caselle", "label": "Quante caselle PEC?", "kind": "number", "min": 0, "max": 500,
                 "required": true, "show_if": {"question": "pec", "any_of": ["si", "in-parte"]}},
                {"name": "servizi", "label": "Quali servizi vi servono?", "kind": "multiple", "required": true,
                 "options": SERVIZI.iter().map(|s| json!({"value": s, "label": s.to_uppercase()})).collect::<Vec<_>>()},
            ]},
            {"title": "Maturità", "questions": [
                {"name": "soddisfazione", "label": "Quanto siete soddisfatti dei servizi?", "kind": "scale",
                 "required": true, "min_label": "Per niente", "max_label": "Molto"},
                {"name": "aree", "label": "Valutate le aree", "kind": "matrix", "required": true,
                 "rows": [{"value": "dati", "label": "Dati"}, {"value": "sicurezza", "label": "Sicurezza"},
                          {"value": "competenze", "label": "Competenze"}]},
                {"name": "note", "label": "Note", "kind": "long"},
            ]},
        ]
    })
}

/// The answers of body `i`: varied, and each a plain function of `i`.
fn answers_of(i: usize) -> Value {
    let pec = ["si", "no", "in-parte", "si"][i % 4];
    let servizi: Vec<&str> =
        SERVIZI.iter().enumerate().filter(|(k, _)| !(i + k).is_multiple_of(3)).map(|(_, s)| *s).collect();
    let mut a = json!({
        "pec": pec,
        "servizi": servizi,
        "soddisfazione": 1 + (i * 7) % 5,
        "aree": {"dati": 1 + i % 5, "sicurezza": 1 + (i / 2) % 5, "competenze": 1 + (i * 3) % 5},
        "note": format!("Nota dell'ente {i}"),
    });
    if pec != "no" {
        a["caselle"] = json!(i % 9);
    }
    a
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

fn question<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["questions"].as_array().unwrap().iter().find(|q| q["name"] == name).unwrap()
}

fn count_of(q: &Value, value: &str) -> u64 {
    q["choices"].as_array().unwrap().iter().find(|c| c["value"] == value).unwrap()["count"].as_u64().unwrap()
}

/// Creates `n` published bodies `ente-{i}`, a kind and a province each; all but every tenth
/// with a `pec`.
async fn bodies(app: &TestApp, admin: &str, tenant: &str, n: usize) {
    for i in 0..n {
        let mut data = json!({"title": format!("Comune {i}"), "kind": if i % 3 == 0 { "unione-di-comuni" } else { "comune" },
                              "province": PROVINCES[i % 3]});
        if i % 10 != 0 {
            data["pec"] = json!(format!("protocollo@pec.ente-{i}.example"));
        }
        let res = app
            .post(
                &format!("/api/v1/t/{tenant}/entries/ente"),
                Some(admin),
                json!({"status": "published", "slug": format!("ente-{i}"), "data": data}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
}

fn secret_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn forty_bodies_answer_through_their_links_and_the_results_add_up() {
    let mut app = spawn_app().await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    tenant(&app, &admin, "genova").await;
    let operator = app.member(&admin, "lecce", "operatore@lecce.example", "operator").await;
    bodies(&app, &admin, "lecce", 40).await;

    let created = app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), definition(&app, "public")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["state"], "open");
    let again = app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), definition(&app, "public")).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&operator), definition(&app, "public")).await.status,
        403
    );

    let invited = app.post("/api/v1/t/lecce/surveys/fabbisogni/invitations", Some(&operator), json!({})).await;
    assert_eq!(invited.status, 200, "{}", invited.text);
    assert_eq!(invited.body["invited"], 40);
    assert_eq!(invited.body["without_address"].as_array().unwrap().len(), 4, "{}", invited.text);
    let twice = app.post("/api/v1/t/lecce/surveys/fabbisogni/invitations", Some(&operator), json!({})).await;
    assert_eq!((twice.body["invited"].as_u64(), twice.body["already_invited"].as_u64()), (Some(0), Some(40)));
    assert_eq!(outbox(&app).await.0, 36, "one e-mail per body with an address, once");

    let list = app.get("/api/v1/t/lecce/surveys/fabbisogni/invitations", Some(&operator)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let links: BTreeMap<String, String> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ente"].as_str().unwrap().to_owned(), r["link"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(links.len(), 40);
    assert!(links["ente-1"].starts_with("http") && links["ente-1"].contains("/questionari/fabbisogni/invito/"));

    for i in 0..40 {
        let path = format!(
            "/api/v1/t/lecce/surveys/fabbisogni/invitations/by-secret/{}",
            secret_of(&links[&format!("ente-{i}")])
        );
        let fresh = app.get(&path, None).await;
        assert_eq!((fresh.status, fresh.body["status"].as_str()), (200, Some("none")), "{}", fresh.text);
        assert_eq!(fresh.body["ente_name"], format!("Comune {i}"));
        let full = answers_of(i);
        // A draft of the first question, then the body comes back and finds it.
        let draft = app.put(&path, None, json!({"answers": {"pec": full["pec"]}})).await;
        assert_eq!((draft.status, draft.body["status"].as_str()), (200, Some("draft")), "{}", draft.text);
        if i == 5 {
            // A draft outlives a restart of the server in the middle of the answers.
            app.restart().await;
        }
        let resumed = app.get(&path, None).await;
        assert_eq!(resumed.body["answers"], json!({"pec": full["pec"]}));
        let sent = app.put(&path, None, json!({"answers": full, "send": true})).await;
        assert_eq!((sent.status, sent.body["status"].as_str()), (200, Some("sent")), "{}", sent.text);
    }

    // A reused link: refused, and what was sent stays.
    let path0 = format!("/api/v1/t/lecce/surveys/fabbisogni/invitations/by-secret/{}", secret_of(&links["ente-0"]));
    let reused = app.put(&path0, None, json!({"answers": answers_of(1), "send": true})).await;
    assert_eq!((reused.status, reused.code()), (409, "already_answered"), "{}", reused.text);
    assert_eq!(app.get(&path0, None).await.body["answers"], answers_of(0));
    let counts = app.get("/api/v1/t/lecce/surveys/fabbisogni/invitations", Some(&operator)).await;
    assert_eq!((counts.body["sent"].as_u64(), counts.body["drafts"].as_u64()), (Some(40), Some(0)));

    // The results, against the same numbers worked out here.
    let results = app.get("/api/v1/t/lecce/surveys/fabbisogni/results", None).await;
    assert_eq!(results.status, 200, "{}", results.text);
    assert_eq!(results.body["responses"], 40);
    let all: Vec<Value> = (0..40).map(answers_of).collect();
    let pec = question(&results.body, "pec");
    for value in ["si", "no", "in-parte"] {
        let expected = all.iter().filter(|a| a["pec"] == value).count() as u64;
        assert_eq!(count_of(pec, value), expected, "pec {value}");
    }
    let servizi = question(&results.body, "servizi");
    for s in SERVIZI {
        let expected = all.iter().filter(|a| a["servizi"].as_array().unwrap().contains(&json!(s))).count() as u64;
        assert_eq!(count_of(servizi, s), expected, "servizi {s}");
        let share = servizi["choices"].as_array().unwrap().iter().find(|c| c["value"] == s).unwrap()["percent"]
            .as_f64()
            .unwrap();
        assert!((share - expected as f64 * 100.0 / 40.0).abs() < 1e-9);
    }
    let points: Vec<f64> = all.iter().map(|a| a["soddisfazione"].as_f64().unwrap()).collect();
    let stats = &question(&results.body, "soddisfazione")["stats"];
    assert!((stats["mean"].as_f64().unwrap() - points.iter().sum::<f64>() / 40.0).abs() < 1e-9);
    assert_eq!(stats["median"].as_f64().unwrap(), median(points));
    let caselle: Vec<f64> = all.iter().filter_map(|a| a["caselle"].as_f64()).collect();
    let q = question(&results.body, "caselle");
    assert_eq!(q["answered"].as_u64().unwrap(), caselle.len() as u64);
    assert_eq!(q["stats"]["median"].as_f64().unwrap(), median(caselle));
    let by_province = pec["breakdowns"].as_array().unwrap().iter().find(|b| b["by"] == "province").unwrap();
    for group in by_province["groups"].as_array().unwrap() {
        let p = group["key"].as_str().unwrap();
        let expected = (0..40).filter(|i| PROVINCES[i % 3] == p && all[*i]["pec"] == "si").count() as u64;
        assert_eq!(count_of(group, "si"), expected, "province {p}");
    }
    let by_kind = pec["breakdowns"].as_array().unwrap().iter().find(|b| b["by"] == "kind").unwrap();
    let unioni = by_kind["groups"].as_array().unwrap().iter().find(|g| g["key"] == "unione-di-comuni").unwrap();
    assert_eq!(unioni["answered"].as_u64().unwrap(), (0..40).filter(|i| i % 3 == 0).count() as u64);
    let aree = question(&results.body, "aree");
    let dati: Vec<f64> = all.iter().map(|a| a["aree"]["dati"].as_f64().unwrap()).collect();
    assert!((aree["rows"][0]["stats"]["mean"].as_f64().unwrap() - dati.iter().sum::<f64>() / 40.0).abs() < 1e-9);
    assert!(!results.text.contains("Nota dell'ente"), "free text is never in the results");

    // Charts: SVG drawn on the server, each an accessible image.
    let drawn = app.get("/api/v1/t/lecce/surveys/fabbisogni/results?charts=svg", None).await;
    let kinds: Vec<&str> = drawn.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["charts"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()))
        .collect();
    for kind in ["bar", "stacked", "radar"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let svg = app.get("/api/v1/t/lecce/surveys/fabbisogni/charts/pec", None).await;
    assert_eq!(svg.status, 200);
    assert!(svg.header("content-type").unwrap().starts_with("image/svg+xml"));
    assert!(svg.text.starts_with("<svg role=\"img\"") && svg.text.contains("<title id=\"grafico-pec-titolo\">"));
    assert_eq!(app.get("/api/v1/t/lecce/surveys/fabbisogni/charts/note", None).await.status, 404);

    // Exports: staff only, the free text included.
    assert_eq!(app.get("/api/v1/t/lecce/surveys/fabbisogni/responses.csv", None).await.status, 401);
    let csv = app.get("/api/v1/t/lecce/surveys/fabbisogni/responses.csv", Some(&operator)).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let lines: Vec<&str> = csv.text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 41);
    assert_eq!(
        lines[0],
        "inviato,ente,denominazione,tipo,provincia,pec,caselle,servizi,soddisfazione,aree.dati,aree.sicurezza,aree.competenze,note"
    );
    assert!(csv.text.contains("Nota dell'ente 7"));
    let xlsx = app.get_bytes("/api/v1/t/lecce/surveys/fabbisogni/responses.xlsx", Some(&operator)).await;
    assert_eq!(&xlsx[..2], b"PK", "an XLSX is a zip");

    // Nothing of lecce's survey is seen from genova.
    assert_eq!(app.get("/api/v1/t/genova/surveys/fabbisogni", None).await.status, 404);
    let cross = format!("/api/v1/t/genova/surveys/fabbisogni/invitations/by-secret/{}", secret_of(&links["ente-3"]));
    assert_eq!(app.get(&cross, None).await.status, 404);
    assert_eq!(app.get("/api/v1/t/genova/surveys", None).await.body["data"], json!([]));
}

#[tokio::test]
async fn bad_definitions_and_bad_answers_are_refused_with_nothing_stored() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    bodies(&app, &admin, "lecce", 2).await;

    let mut bad = definition(&app, "staff");
    bad["sections"][0]["questions"][1]["show_if"]["question"] = json!("dopo");
    bad["sections"][1]["questions"][0]["options"] = json!([{"value": "x", "label": "X"}]);
    let refused = app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), bad).await;
    assert_eq!((refused.status, refused.code()), (422, "validation_failed"), "{}", refused.text);
    assert_eq!(refused.body["errors"].as_array().unwrap().len(), 2, "{}", refused.text);
    assert_eq!(app.get("/api/v1/t/lecce/surveys/fabbisogni", None).await.status, 404);
    let unknown_field = app
        .put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), json!({"title": "T", "sections": [], "colour": 1}))
        .await;
    assert_eq!(unknown_field.status, 422, "{}", unknown_field.text);

    assert_eq!(
        app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), definition(&app, "staff")).await.status,
        201
    );
    app.post("/api/v1/t/lecce/surveys/fabbisogni/invitations", Some(&admin), json!({})).await;
    let list = app.get("/api/v1/t/lecce/surveys/fabbisogni/invitations", Some(&admin)).await;
    let link = list.body["data"][0]["link"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/t/lecce/surveys/fabbisogni/invitations/by-secret/{}", secret_of(&link));

    for (answers, field, code) in [
        (json!({"soddisfazione": "molto"}), "answers.soddisfazione", "out_of_range"),
        (json!({"pec": "forse"}), "answers.pec", "not_in_enum"),
        (json!({"servizi": "pagopa"}), "answers.servizi", "invalid_type"),
        (json!({"colore": "blu"}), "answers.colore", "unknown_field"),
    ] {
        let res = app.put(&path, None, json!({"answers": answers})).await;
        assert_eq!(
            (res.status, res.field(), res.body["errors"][0]["code"].as_str()),
            (422, field, Some(code)),
            "{}",
            res.text
        );
    }
    let incomplete = app.put(&path, None, json!({"answers": {"pec": "no"}, "send": true})).await;
    assert_eq!(incomplete.status, 422, "{}", incomplete.text);
    assert!(incomplete.text.contains("answers.servizi"), "{}", incomplete.text);
    assert_eq!(app.get(&path, None).await.body["status"], "none", "nothing stored by a refusal");

    let forged = format!("/api/v1/t/lecce/surveys/fabbisogni/invitations/by-secret/{}x", secret_of(&link));
    assert_eq!(app.put(&forged, None, json!({"answers": {}})).await.status, 404);

    // Staff-only results stay with staff.
    assert_eq!(app.get("/api/v1/t/lecce/surveys/fabbisogni/results", None).await.status, 401);
    assert_eq!(app.get("/api/v1/t/lecce/surveys/fabbisogni/results", Some(&admin)).await.status, 200);

    // Once answered, the questions stay; the texts may change.
    assert_eq!(app.put(&path, None, json!({"answers": answers_of(1), "send": true})).await.status, 200);
    let mut changed = definition(&app, "public");
    changed["sections"][0]["questions"][2]["options"].as_array_mut().unwrap().pop();
    let res = app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), changed).await;
    assert_eq!((res.status, res.code()), (409, "survey_answered"), "{}", res.text);
    let mut retitled = definition(&app, "public");
    retitled["title"] = json!("Fabbisogni 2027");
    assert_eq!(app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), retitled).await.status, 200);

    // Closed: the other body's answers are refused.
    let other = list.body["data"][1]["link"].as_str().unwrap().to_owned();
    let other = format!("/api/v1/t/lecce/surveys/fabbisogni/invitations/by-secret/{}", secret_of(&other));
    app.clock.advance(Duration::days(8));
    let late = app.put(&other, None, json!({"answers": answers_of(2)})).await;
    assert_eq!((late.status, late.code()), (409, "survey_closed"), "{}", late.text);
    assert_eq!(app.get(&other, None).await.body["status"], "none");

    // An invited survey takes no anonymous answers; an anonymous one does, with its token.
    let res = app.get("/api/v1/t/lecce/surveys/fabbisogni/form", None).await;
    assert_eq!((res.status, res.code()), (409, "survey_invited_only"));
    let mut anon = definition(&app, "public");
    anon["audience"] = json!("anonymous");
    assert_eq!(app.put("/api/v1/t/lecce/surveys/gradimento", Some(&admin), anon).await.status, 201);
    let form = app.get("/api/v1/t/lecce/surveys/gradimento/form", None).await;
    let token = form.body["fill_token"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(5));
    let no_token = app
        .post(
            "/api/v1/t/lecce/surveys/gradimento/responses",
            None,
            json!({"answers": answers_of(3), "fill_token": "x"}),
        )
        .await;
    assert_eq!(no_token.status, 400, "{}", no_token.text);
    let ok = app
        .post(
            "/api/v1/t/lecce/surveys/gradimento/responses",
            None,
            json!({"answers": answers_of(3), "fill_token": token}),
        )
        .await;
    assert_eq!(ok.status, 202, "{}", ok.text);
    assert_eq!(app.get("/api/v1/t/lecce/surveys/gradimento/results", None).await.body["responses"], 1);
}

fn assessment(app: &TestApp) -> Value {
    json!({
        "title": "Autovalutazione",
        "closes": (app.clock.now() + Duration::days(7)).to_rfc3339(),
        "sections": [{"title": "Aree", "questions": [
            {"name": "istanze", "label": "Istanze online", "kind": "single", "required": true, "area": "servizi",
             "options": [{"value": "nessuna", "label": "Nessuna", "score": 0}, {"value": "alcune", "label": "Alcune", "score": 1},
                         {"value": "tutte", "label": "Tutte", "score": 2}]},
            {"name": "canali", "label": "Canali", "kind": "multiple", "area": "servizi",
             "options": [{"value": "io", "label": "IO", "score": 1}, {"value": "web", "label": "Web", "score": 1}]},
            {"name": "backup", "label": "Backup", "kind": "scale", "required": true, "area": "sicurezza"},
            {"name": "misure", "label": "Misure", "kind": "matrix", "area": "sicurezza",
             "rows": [{"value": "password", "label": "Password"}, {"value": "aggiornamenti", "label": "Aggiornamenti"}]},
            {"name": "formazione", "label": "Formazione", "kind": "scale", "required": true, "area": "competenze"},
        ]}],
        "assessment": {
            "levels": [{"min": 0, "label": "Iniziale"}, {"min": 40, "label": "In crescita"}, {"min": 75, "label": "Avanzato"}],
            "areas": [
                {"name": "servizi", "label": "Servizi online", "advice": "Portate online le istanze.", "categories": ["istanze-e-protocollo"]},
                {"name": "sicurezza", "label": "Sicurezza", "advice": "Pianificate i backup.", "categories": ["sicurezza-informatica"],
                 "services": ["disaster-recovery"]},
                {"name": "competenze", "label": "Competenze", "advice": "Formate il personale.", "categories": ["formazione"]},
            ]
        }
    })
}

async fn service(app: &TestApp, admin: &str, slug: &str, title: &str, category: &str) {
    let data = json!({"title": title, "summary": "Un servizio del CIT.", "category": category, "description": "D",
                      "how_to": "H", "access_channel": "online"});
    let res = app
        .post(
            "/api/v1/t/lecce/entries/servizio",
            Some(admin),
            json!({"status": "published", "slug": slug, "data": data}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

#[tokio::test]
async fn an_assessment_gives_each_body_its_profile_and_the_cit_all_of_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    tenant(&app, &admin, "lecce").await;
    bodies(&app, &admin, "lecce", 3).await;
    service(&app, &admin, "protocollo", "Protocollo informatico", "istanze-e-protocollo").await;
    service(&app, &admin, "disaster-recovery", "Disaster Recovery", "infrastrutture-digitali").await;
    service(&app, &admin, "corsi", "Formazione eGov", "formazione").await;
    service(&app, &admin, "wifi", "Wi-Fi pubblico", "infrastrutture-digitali").await;

    let mut bad = assessment(&app);
    bad["sections"][0]["questions"][2]["area"] = json!("altro");
    let refused = app.put("/api/v1/t/lecce/surveys/maturita", Some(&admin), bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("'altro' is not an area"), "{}", refused.text);
    assert_eq!(app.put("/api/v1/t/lecce/surveys/maturita", Some(&admin), assessment(&app)).await.status, 201);
    app.post("/api/v1/t/lecce/surveys/maturita/invitations", Some(&admin), json!({})).await;
    let list = app.get("/api/v1/t/lecce/surveys/maturita/invitations", Some(&admin)).await;
    let path = |ente: &str| {
        let link =
            list.body["data"].as_array().unwrap().iter().find(|r| r["ente"] == ente).unwrap()["link"].as_str().unwrap();
        format!("/api/v1/t/lecce/surveys/maturita/invitations/by-secret/{}", secret_of(link))
    };

    // ente-0: servizi 3 of 4 points (75 %, the top level), sicurezza (2-1)+(3-1)+(1-1) = 3 of 12
    // (25 %), competenze 2 of 4 (50 %).
    let answers = json!({"istanze": "tutte", "canali": ["io"], "backup": 2, "misure": {"password": 3, "aggiornamenti": 1},
                         "formazione": 3});
    let draft = app.put(&path("ente-0"), None, json!({"answers": answers})).await;
    assert_eq!(draft.body["profile"], Value::Null, "a draft gives no profile yet");
    let sent = app.put(&path("ente-0"), None, json!({"answers": answers, "send": true})).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let areas = sent.body["profile"]["areas"].as_array().unwrap();
    let got: Vec<(f64, u64, &str)> = areas
        .iter()
        .map(|a| (a["percent"].as_f64().unwrap(), a["level"].as_u64().unwrap(), a["level_label"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(75.0, 3, "Avanzato"), (25.0, 1, "Iniziale"), (50.0, 2, "In crescita")]);
    assert_eq!(areas[0]["advice"], Value::Null);
    assert_eq!(areas[0]["services"], json!([]), "no advice at the top level");
    assert_eq!(areas[1]["advice"], "Pianificate i backup.");
    let titles = |a: &Value| {
        a["services"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(titles(&areas[1]), ["Disaster Recovery"], "named by slug; the Wi-Fi's category is not the area's");
    assert_eq!(titles(&areas[2]), ["Formazione eGov"]);
    let chart = sent.body["profile"]["chart"].as_str().unwrap();
    assert!(chart.contains("data-chart=\"radar\"") && chart.contains("Sicurezza: 25 % (Iniziale)"), "{chart}");
    // The body sees its own profile again through its link; another body's link shows only its own.
    assert_eq!(app.get(&path("ente-0"), None).await.body["profile"]["areas"][1]["percent"], 25.0);
    assert_eq!(app.get(&path("ente-1"), None).await.body["profile"], Value::Null);

    let low =
        json!({"istanze": "nessuna", "backup": 5, "misure": {"password": 5, "aggiornamenti": 5}, "formazione": 1});
    assert_eq!(app.put(&path("ente-1"), None, json!({"answers": low, "send": true})).await.status, 200);

    // The CIT sees every body side by side.
    assert_eq!(app.get("/api/v1/t/lecce/surveys/maturita/profiles", None).await.status, 401);
    let all = app.get("/api/v1/t/lecce/surveys/maturita/profiles", Some(&admin)).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let rows: Vec<(String, Vec<u64>)> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["ente"].as_str().unwrap().to_owned(),
                b["areas"].as_array().unwrap().iter().map(|a| a["level"].as_u64().unwrap()).collect(),
            )
        })
        .collect();
    assert_eq!(rows, [("ente-0".to_owned(), vec![3, 1, 2]), ("ente-1".to_owned(), vec![1, 3, 1])]);
    assert!(all.body["chart"].as_str().unwrap().contains("data-chart=\"stacked\""));
    let plain = app.put("/api/v1/t/lecce/surveys/fabbisogni", Some(&admin), definition(&app, "staff")).await;
    assert_eq!(plain.status, 201);
    let not = app.get("/api/v1/t/lecce/surveys/fabbisogni/profiles", Some(&admin)).await;
    assert_eq!((not.status, not.code()), (409, "not_an_assessment"));
}
