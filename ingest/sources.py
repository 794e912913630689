"""What hubwatch crawls, named once and cheaply: the sources (raw/<source>/) and the windows of
Civitai's image feed. Constants only, so the CLI can offer them without importing the crawlers."""

SOURCES = ("civitai_models", "civitai_images", "hf_models")
IMAGE_PERIODS = ("Day", "Week", "Month", "Year", "AllTime")  # the /images API's `period`
