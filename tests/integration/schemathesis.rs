//! Schema-driven fuzzing (issue 16): schemathesis generates requests from
//! `/api/openapi.json` and checks every answer against the same document —
//! no server error, only documented status codes, the documented content
//! type, headers and body schema. Zero failures is the bar, so the document
//! has to say exactly what the server does.
//!
//! Needs the `st` command of schemathesis (PyPI); `SCHEMATHESIS` may name it
//! (`.ci/run` installs it into a virtualenv and sets it). Without it the suite
//! is skipped loudly, and under `CI=true` that is a failure.

use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp, every_day, on_both_backends, skip_loudly, slot, spawn_app};

on_both_backends!(the_api_conforms_to_its_openapi_document);

/// The stateless checks the issue asks for. Left out, and why:
/// `negative_data_rejection` / `positive_data_acceptance` judge validation
/// rules the schema cannot express (a slot on the provider's grid, a day
/// within the horizon); `ignored_auth` and `use_after_free` are stateful,
/// and the generated authorization matrix (`authz_matrix.rs`) covers who may
/// call what.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
    response_headers_conformance,response_schema_conformance";

/// Generated cases per operation and phase: enough to reach every branch of
/// the document's shapes, bounded so that both backends fit in CI.
const MAX_EXAMPLES: &str = "25";

/// The `st` command, or `None` after saying loudly why the suite is skipped.
fn schemathesis() -> Option<String> {
    let command = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "st".to_owned());
    match Command::new(&command).arg("--version").output() {
        Ok(output) if output.status.success() => Some(command),
        _ => {
            let reason = format!(
                "`{command}` (schemathesis) was not found; `pip install schemathesis` or \
                 `bash .ci/run` runs it"
            );
            skip_loudly("the schemathesis suite", &reason);
            None
        }
    }
}

async fn the_api_conforms_to_its_openapi_document(backend: Backend) {
    let Some(st) = schemathesis() else { return };
    let app = spawn_app(backend).await;
    let fixture = Fixture::arrange(&app).await;
    let config = fixture.config_file(backend);
    let schema = format!("{}/api/openapi.json", app.address);
    let authorization = format!("Authorization: Bearer {}", fixture.token);
    let report = tempfile_path(backend, "xml");
    // CI runs one fixed seed; a longer hunt by hand sets these two.
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "16".to_owned());
    let max_examples = std::env::var("SCHEMATHESIS_MAX_EXAMPLES").unwrap_or_else(|_| MAX_EXAMPLES.to_owned());
    let args = [
        "--config-file",
        config.as_str(),
        "run",
        schema.as_str(),
        "--header",
        authorization.as_str(),
        "--checks",
        CHECKS,
        "--max-examples",
        max_examples.as_str(),
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        seed.as_str(),
        "--workers",
        "1",
        "--request-timeout",
        "15",
        // Deleting the signed-in account would turn the rest of the run into
        // 401s; who may delete what is the authorization matrix's job.
        "--exclude-operation-id",
        "delete_me",
        "--report",
        "junit",
        "--report-junit-path",
        report.as_str(),
    ]
    .map(str::to_owned);
    // The server runs on this thread's runtime: wait for schemathesis on a
    // blocking thread so the server keeps answering it.
    let run = actix_web::rt::task::spawn_blocking(
        move || // Its run cache (`.schemathesis/`) goes beside the reports, not into the checkout.
        Command::new(st).args(args).current_dir(std::env::temp_dir()).env("NO_COLOR", "1").output(),
    )
    .await
    .expect("the schemathesis thread")
    .expect("schemathesis starts");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let _ = std::fs::write(tempfile_path(backend, "log"), format!("{stdout}\n{stderr}"));
    assert!(run.status.success(), "schemathesis found failures on {backend:?}:\n{stdout}\n{stderr}");
    // The run must have tested something: a silent "no operations" is not a pass.
    assert!(stdout.contains("passed"), "schemathesis ran nothing on {backend:?}:\n{stdout}");
}

/// Where a run's files go (kept, so a failed CI run can be read).
fn tempfile_path(backend: Backend, extension: &str) -> String {
    let dir = std::env::temp_dir().join("justbookme-schemathesis");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!("{backend:?}.{extension}").to_lowercase()).to_string_lossy().into_owned()
}

/// What the signed-in provider (Anna) can see, so that generated requests
/// reach real resources and the documented 200 bodies are the ones actually
/// produced, not only 404s: her service, hours, a client-book entry, a
/// booking a client made with her, and a booking she made as a client with
/// another provider. Destructive operations get resources of their own, so
/// the order schemathesis runs operations in does not matter.
struct Fixture {
    token: String,
    service: String,
    spare_service: String,
    client_entry: String,
    spare_client_entry: String,
    booking_with_her: String,
    her_booking_elsewhere: String,
}

impl Fixture {
    async fn arrange(app: &TestApp) -> Fixture {
        let (token, service) = app.provider(1, "anna", json!({}), every_day("09:00", "17:00")).await;
        let (_, bruno_service) = app.provider(3, "bruno", json!({}), every_day("09:00", "17:00")).await;
        let carol = app.dev_sign_in(2, "Carol").await;
        let booking_with_her =
            app.book(&carol, "anna", &service, &slot("10:00")).await.ok()["id"].as_str().expect("id").to_owned();
        let her_booking_elsewhere =
            app.book(&token, "bruno", &bruno_service, &slot("11:00")).await.ok()["id"].as_str().expect("id").to_owned();
        let spare = json!({ "name": "Spare", "duration_min": 30 });
        let spare_service = app.request("POST", "/api/provider/services", Some(&token), Some(spare)).await.ok()["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let mut entries = Vec::new();
        for name in ["Dora", "Emil"] {
            let entry = json!({ "name": name, "contacts": "+49 30 1234567", "notes": "prefers mornings" });
            entries.push(
                app.request("POST", "/api/provider/clients", Some(&token), Some(entry)).await.ok()["id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            );
        }
        let [client_entry, spare_client_entry] = <[String; 2]>::try_from(entries).expect("two entries");
        Fixture {
            token,
            service,
            spare_service,
            client_entry,
            spare_client_entry,
            booking_with_her,
            her_booking_elsewhere,
        }
    }

    /// A schemathesis configuration naming these resources per operation
    /// (`{:?}` quotes a UUID as TOML does).
    fn config_file(&self, backend: Backend) -> String {
        let operations: [(&str, &str); 6] = [
            (
                "\"cancel_my_booking\", \"reschedule_my_booking\"",
                &format!("\"path.id\" = {:?}", self.her_booking_elsewhere),
            ),
            ("\"act\", \"reschedule\"", &format!("\"path.id\" = {:?}", self.booking_with_her)),
            ("\"patch_service\"", &format!("\"path.id\" = {:?}", self.service)),
            ("\"retire_service\"", &format!("\"path.id\" = {:?}", self.spare_service)),
            ("\"get\", \"patch\", \"export\"", &format!("\"path.id\" = {:?}", self.client_entry)),
            ("\"delete\"", &format!("\"path.id\" = {:?}", self.spare_client_entry)),
        ];
        let mut toml = String::new();
        for (ids, parameters) in operations {
            toml.push_str(&format!(
                "[[operations]]\ninclude-operation-id = [{ids}]\nparameters = {{ {parameters} }}\n\n"
            ));
        }
        toml.push_str(&format!(
            "[[operations]]\ninclude-operation-id = [\"get_public_provider\", \"get_slots\"]\n\
             parameters = {{ \"path.slug\" = \"anna\", \"query.service\" = {:?} }}\n",
            self.service
        ));
        let path = tempfile_path(backend, "toml");
        std::fs::write(&path, toml).expect("schemathesis config written");
        path
    }
}
