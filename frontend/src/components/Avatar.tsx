import { avatarHue, initials } from "../format";

export function Avatar({ userId, name, size = 44 }: { userId: string; name: string; size?: number }) {
  const hue = avatarHue(userId);
  return (
    <span
      className="avatar"
      style={{
        width: size,
        height: size,
        fontSize: Math.round(size * 0.38),
        background: `linear-gradient(135deg, hsl(${hue} 75% 62%), hsl(${(hue + 40) % 360} 70% 52%))`,
      }}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  );
}
