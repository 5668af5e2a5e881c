var app = WebApplication.CreateBuilder(args).Build();
var commit = Environment.GetEnvironmentVariable("COMMIT_ID") ?? "unknown";

app.MapGet("/", () => $"Hello from Techorama ({commit})");
app.MapGet("/healthz", () => Results.Ok());

app.Run();
