// The colours and symbols of every page (map, legend, charts); no Leaflet here.
// Hazards: IMSMA symbology (IMSMA wiki, "Symbology"): CHA fill #FF0000, SHA fill #F4A718, 50 %
// transparent. Hazards in clearance keep the CHA fill with a dark dashed edge. The other colours
// (released land, items, sites, plan) are this project's choice: calm greens and blues for land
// released, a distinct shape per family of explosive ordnance, hollow once disposed of.

import { t } from "./i18n.js";

export const HAZARD = {
  suspected: { fill: "#F4A718", stroke: "#a86f00", label: t("Suspected (SHA)") },
  confirmed: { fill: "#FF0000", stroke: "#a00000", label: t("Confirmed (CHA)") },
  in_clearance: { fill: "#FF0000", stroke: "#4a0000", dash: "6 4", weight: 2.5, label: t("In clearance") },
  suspended: { fill: "#FF0000", stroke: "#555555", dash: "2 4", opacity: 0.2, label: t("Suspended") },
  released: { fill: "#1a9850", stroke: "#1a9850", opacity: 0, dash: "1 4", label: t("Released (outline)") },
};

export const RELEASE = {
  cleared: { fill: "#1a9850", label: t("Cleared") },
  reduced: { fill: "#91cf60", label: t("Reduced (technical survey)") },
  cancelled: { fill: "#74add1", label: t("Cancelled (non-technical survey)") },
};

// shape and colour by category; anti-tank mines a little larger
export const ITEM = {
  ap_mine: { shape: "triangle", color: "#6a3d9a", label: t("AP mine") },
  at_mine: { shape: "triangle", color: "#3f007d", size: 1.3, label: t("AT mine") },
  ied_victim_operated: { shape: "diamond", color: "#000000", label: t("IED, victim-operated") },
  ied_command_operated: { shape: "diamond", color: "#525252", label: t("IED, command-operated") },
  ied_time: { shape: "diamond", color: "#969696", label: t("IED, time") },
  booby_trap: { shape: "square", color: "#8c510a", label: t("Booby trap") },
  uxo: { shape: "circle", color: "#2166ac", label: t("UXO") },
  axo: { shape: "circle", color: "#01665e", label: t("AXO") },
};
export const DISPOSED = new Set(["rendered_safe", "removed", "destroyed_in_place"]);

export const PROGRESS = { fill: "#00bcd4", stroke: "#006064" };
export const BUFFER = { stroke: "#1f5fbf" };
export const BUILDING_FILL = "#6b6b6b";
export const OUTLINE = { fill: "#e6d3a8", stroke: "#a0804a" };
const TEAM_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#386cb0"];

export function teamColour(teamId) {
  return teamId === null || teamId === undefined ? "#777777" : TEAM_COLOURS[Number(teamId) % TEAM_COLOURS.length];
}
