/// The console's files by name, from the bytes SwiftPM embeds at build time
/// (`resources: [.embedInCode("Console/Assets")]` in Package.swift). A test checks that this
/// table and the directory list the same files.
enum ConsoleFiles {
    static let all: [String: [UInt8]] = [
        "index.html": PackageResources.index_html,
        "console.css": PackageResources.console_css,
        "icon.svg": PackageResources.icon_svg,
        "app.js": PackageResources.app_js,
        "api.js": PackageResources.api_js,
        "dom.js": PackageResources.dom_js,
        "chart.js": PackageResources.chart_js,
        "models.js": PackageResources.models_js,
        "model.js": PackageResources.model_js,
        "jobs.js": PackageResources.jobs_js,
        "job.js": PackageResources.job_js,
        "train.js": PackageResources.train_js,
        "predict.js": PackageResources.predict_js,
    ]
}
