//! The guest bindings of the `full-plugin` world, generated from `wit/`. Hidden from plugin
//! authors: `export_plugin!` and the SDK's own types are the public face.

wit_bindgen::generate!({
    path: "wit",
    world: "full-plugin",
    pub_export_macro: true,
    runtime_path: "confiture_sdk::__private::wit_bindgen::rt",
    generate_all,
});
