import AxonHTTP

/// Registers every training, inference and management route.
public enum APIRoutes {
    /// Adds the API routes to `router`.
    public static func register(on router: inout Router, context: APIContext) {
        PredictRoutes(context: context).register(on: &router)
        TrainingRoutes(context: context).register(on: &router)
        JobRoutes(context: context).register(on: &router)
        ModelRoutes(context: context).register(on: &router)
        ServingMetadataRoutes(context: context).register(on: &router)
        router.get("/openapi.json") { _ in Response.json(bytes: OpenAPIDocument.json) }
    }
}
