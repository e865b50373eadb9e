// Package docs holds no code: its tests keep the repository's documents
// (LICENSE, CHANGELOG.md, README.md, docker-compose.test.yml) truthful
// about the code, so that a user who follows them literally finds what
// they promise.
package docs
