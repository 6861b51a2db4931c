// `diesel_migrations::embed_migrations!` reads `migrations/` at compile time, but a proc macro
// cannot tell cargo which files it read, so without this a new or edited migration would not
// rebuild the binary: <https://docs.rs/diesel_migrations/latest/diesel_migrations/macro.embed_migrations.html#automatic-rebuilds>.
// Naming one path turns off cargo's default (rebuild on any file of the package), so
// `Cargo.toml` is named too.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=Cargo.toml");
    // The pages' files are embedded by `rust-embed` (src/web/assets.rs, src/web/templates.rs):
    // a file added to or removed from these folders rebuilds the binary too.
    println!("cargo:rerun-if-changed=assets");
    println!("cargo:rerun-if-changed=page_templates");
}
